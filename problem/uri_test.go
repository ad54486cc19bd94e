package problem_test

import (
	"encoding/json"
	"testing"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
)

func TestEscapeURIReference(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"about:blank", "about:blank"},
		{"/patients/p-1", "/patients/p-1"},
		{"https://api.virtuheal.com/problems/not-found", "https://api.virtuheal.com/problems/not-found"},
		{"tag:example@example.org,2021-09-17:OutOfLuck", "tag:example@example.org,2021-09-17:OutOfLuck"},
		{"/patients/Jean Dupont", "/patients/Jean%20Dupont"},
		{"/a%20b", "/a%20b"},
		{"/50%", "/50%25"},
		{"/a%zz", "/a%25zz"},
		{"/é", "/%C3%A9"},
		{"/\xff\x00\r\n", "/%FF%00%0D%0A"},
		{`/<script>"x"`, "/%3Cscript%3E%22x%22"},
		{":", "%3A"},
		{"a b:c", "a%20b%3Ac"},
		{"1http://x", "1http%3A//x"},
		{"http://[::1]:8080/a[0]", "http://[::1]:8080/a%5B0%5D"},
		{"//[::1]/x", "//[::1]/x"},
		{"/a[0]", "/a%5B0%5D"},
		{"/x?q=1#frag#more", "/x?q=1#frag%23more"},
		{"/x#a?b/c", "/x#a?b/c"},
		{"/p:1/q", "/p:1/q"},
		{"p:1", "p:1"},
		{"/a\\b", "/a%5Cb"},
		{"/{x}|^`", "/%7Bx%7D%7C%5E%60"},
	}
	for _, tt := range tests {
		if got := problem.EscapeURIReference(tt.in); got != tt.want {
			t.Errorf("EscapeURIReference(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := problem.EscapeURIReference(tt.want); again != tt.want {
			t.Errorf("not idempotent: %q becomes %q", tt.want, again)
		}
	}
	if a := testing.AllocsPerRun(100, func() { problem.EscapeURIReference("/patients/p-1?limit=5") }); a != 0 {
		t.Errorf("a valid reference allocates %v times", a)
	}
}

// FuzzEscapeURIReference checks that whatever goes in, a valid and
// stable URI reference comes out.
func FuzzEscapeURIReference(f *testing.F) {
	for _, s := range []string{"", "a b:c", "http://[::1]/x", "/%zz", "#a#b", "\xff", "//evil", "[", "::", "/patients", "/a&b<c>", "/x\"y\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := problem.EscapeURIReference(s)
		if problem.EscapeURIReference(got) != got {
			t.Fatalf("%q: %q is not stable", s, got)
		}
		// The encoder escapes type and instance in one pass where it can:
		// the result must be encoding/json's encoding of the escaped value.
		if s != "" {
			enc, err := (&problem.Problem{Type: s, Instance: s}).AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			esc, _ := json.Marshal(got)
			want := `{"type":` + string(esc) + `,"instance":` + string(esc) + `}`
			if string(enc) != want {
				t.Fatalf("%q: encoded %s, want %s", s, enc, want)
			}
		}
		body, _ := json.Marshal(map[string]string{"instance": got, "type": got})
		if err := problemtest.ValidateSchema(body); err != nil {
			t.Fatalf("%q: %q is not a URI reference: %v", s, got, err)
		}
	})
}
