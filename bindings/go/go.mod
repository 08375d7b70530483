module github.com/docdb/docdb/bindings/go

go 1.24
