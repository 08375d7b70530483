module github.com/docdb/docdb/examples/go

go 1.24

require github.com/docdb/docdb/bindings/go v0.0.0

// In the repository the example uses the binding next to it; outside, drop this line
// and `go get github.com/docdb/docdb/bindings/go` (see bindings/go/README.md).
replace github.com/docdb/docdb/bindings/go => ../../bindings/go
