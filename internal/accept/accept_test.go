package accept

import (
	"strings"
	"testing"
)

type item struct {
	value string
	q     int
}

func scanAll(h string) []item {
	var out []item
	s := NewScanner(h)
	for {
		v, _, q, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, item{v, q})
	}
}

func TestScanner(t *testing.T) {
	tests := []struct {
		header string
		want   []item
	}{
		{"", nil},
		{"a", []item{{"a", 1000}}},
		{" a ; q=0.5 , b;level=1;q=1", []item{{"a", 500}, {"b", 1000}}},
		{"a;q=0, b;Q=0.001, c;q=1.000", []item{{"a", 0}, {"b", 1}, {"c", 1000}}},
		{"bad;q=2, bad;q=1.5, bad;q=0.1234, bad;q=, bad;q=x, bad;q=.5, ok", []item{{"ok", 1000}}},
		{",,, ;q=1, a", []item{{"a", 1000}}},
	}
	for _, tt := range tests {
		got := scanAll(tt.header)
		if len(got) != len(tt.want) {
			t.Errorf("%q: got %v, want %v", tt.header, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: got %v, want %v", tt.header, got, tt.want)
			}
		}
	}
}

func TestScannerIsBounded(t *testing.T) {
	if n := len(scanAll(strings.Repeat("a,", 1000))); n != MaxItems {
		t.Errorf("read %d items, want the bound %d", n, MaxItems)
	}
	long := strings.Repeat("x", MaxBytes) + ",late"
	for _, it := range scanAll(long) {
		if it.value == "late" {
			t.Error("read past MaxBytes")
		}
	}
	var s Scanner
	if a := testing.AllocsPerRun(100, func() {
		s = NewScanner("fr-CH, fr;q=0.9, en;q=0.8")
		for _, _, _, ok := s.Next(); ok; _, _, _, ok = s.Next() {
		}
	}); a != 0 {
		t.Errorf("Scanner allocates %v times", a)
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{"", "text/html;q=0.9,*/*", "fr-CH, fr;q=0.9", ";;;,,,q=1", "a;q=1.0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		s := NewScanner(h)
		for n := 0; ; n++ {
			v, _, q, ok := s.Next()
			if !ok {
				break
			}
			if n >= MaxItems || q < 0 || q > 1000 || v == "" || strings.Contains(v, ",") {
				t.Fatalf("item %d: %q q=%d", n, v, q)
			}
		}
	})
}
