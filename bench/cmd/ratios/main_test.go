package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/virtuheal/apierrors/bench
BenchmarkSuccess/Passthrough-2   	1000	  100.0 ns/op	  16 B/op	  1 allocs/op
BenchmarkSuccess/Library-2       	1000	  105.0 ns/op	  24 B/op	  1 allocs/op
BenchmarkSuccess/Passthrough-2   	1000	  110.0 ns/op	  16 B/op	  1 allocs/op
BenchmarkSuccess/Library-2       	1000	  130.0 ns/op	  24 B/op	  1 allocs/op
BenchmarkSuccess/Passthrough-2   	1000	   90.0 ns/op	  16 B/op	  1 allocs/op
BenchmarkSuccess/Library-2       	1000	  100.0 ns/op	  24 B/op	  1 allocs/op
PASS
ok  	github.com/virtuheal/apierrors/bench	1.0s
`

func TestReadAndJudge(t *testing.T) {
	s := newResults()
	if err := s.read(strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.order, ","); got != "Success/Passthrough,Success/Library" {
		t.Fatalf("order %q", got)
	}
	if m, _ := s.median("Success/Library", "ns/op"); m != 105 {
		t.Fatalf("median %v, want 105", m)
	}
	if n := s.count("Success/Passthrough"); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	var out bytes.Buffer
	missed := printTargets(&out, s)
	text := out.String()
	// 105/100 = 1.05×: within 1.10×; allocs equal. Every other target has no data.
	if missed != 0 || !strings.Contains(text, "PASS  Success/Library ns/op ≤ 1.10× Success/Passthrough") ||
		!strings.Contains(text, "1.050×") || !strings.Contains(text, "not measured") {
		t.Fatalf("missed %d:\n%s", missed, text)
	}
	s.samples["Success/Library"]["allocs/op"] = []float64{2, 2, 2}
	out.Reset()
	if missed := printTargets(&out, s); missed != 1 {
		t.Fatalf("missed %d, want 1:\n%s", missed, out.String())
	}
}
