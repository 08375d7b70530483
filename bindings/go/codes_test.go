package docdb

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Every status libdocdb knows (docdb_status_str names them, "UNKNOWN" past the last) must
// be a Code of the binding, with the same name; so a status added to the C API without
// its Go sentinel fails here.
func TestEveryStatusHasACode(t *testing.T) {
	known := map[Code]bool{}
	for _, c := range codes {
		known[c] = true
	}
	n := 0
	for v := uint32(1); v < 1000; v++ {
		name := Code(v).String()
		if name == "UNKNOWN" {
			break
		}
		n++
		if !known[Code(v)] {
			t.Errorf("C status %d (%s) has no Go error value", v, name)
		}
	}
	if n != len(codes) || n < 14 {
		t.Fatalf("C knows %d statuses, Go %d", n, len(codes))
	}
	if ErrNotFound.String() != "NOT_FOUND" || ErrIO.Error() != "docdb: IO" {
		t.Fatalf("names %q %q", ErrNotFound, ErrIO.Error())
	}
}

// The same from the header's text: every value of enum docdb_status in include/docdb.h
// (also one after a gap, which the loop above would not reach) is a Code.
func TestHeaderStatusesHaveCodes(t *testing.T) {
	h, err := os.ReadFile("../../include/docdb.h")
	must(t, err)
	start := strings.Index(string(h), "enum docdb_status")
	end := strings.Index(string(h)[start:], "};")
	if start < 0 || end < 0 {
		t.Fatal("enum docdb_status not found in include/docdb.h")
	}
	values := regexp.MustCompile(`(?m)^\s*DOCDB_([A-Z_]+) = (\d+),`).FindAllStringSubmatch(string(h)[start:start+end], -1)
	known := map[Code]bool{}
	for _, c := range codes {
		known[c] = true
	}
	for _, m := range values {
		v, _ := strconv.Atoi(m[2])
		if v != 0 && (!known[Code(v)] || Code(v).String() != m[1]) {
			t.Errorf("DOCDB_%s = %d has no Go error value of that name", m[1], v)
		}
	}
	if len(values) != len(codes)+1 {
		t.Fatalf("the header has %d statuses (OK included), Go %d errors", len(values), len(codes))
	}
}

// Each Go mirror of a C struct has a field for every C field (snake_case -> CamelCase,
// "db" -> "DB", "id" -> "ID").
func TestStructsMirrorC(t *testing.T) {
	for cname, pair := range cStructs() {
		goType, cType := pair[0], pair[1]
		n := 0
		for i := 0; i < cType.NumField(); i++ {
			if cType.Field(i).Name == "_" { // padding cgo adds
				continue
			}
			n++
			want := camel(cType.Field(i).Name)
			if _, ok := goType.FieldByName(want); !ok {
				t.Errorf("%s.%s has no Go field %s", cname, cType.Field(i).Name, want)
			}
		}
		if goType.NumField() != n {
			t.Errorf("%s: Go %s has %d fields, C %d", cname, goType, goType.NumField(), n)
		}
	}
}

func camel(snake string) string {
	var b strings.Builder
	for _, part := range strings.Split(snake, "_") {
		switch part {
		case "db", "id", "io", "tls", "ca":
			b.WriteString(strings.ToUpper(part))
		case "ms": // a millisecond count in C is a time.Duration in Go

		case "":
		default:
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
