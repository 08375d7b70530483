module github.com/docdb/docdb/bench/go

go 1.25.0

require github.com/docdb/docdb/bindings/go v0.0.0

require (
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)

replace github.com/docdb/docdb/bindings/go => ../../bindings/go
