package middleware

import (
	"strings"
	"testing"
)

func TestJSONPointer(t *testing.T) {
	tests := []struct{ namespace, want string }{
		{"User.email", "#/email"},
		{"User.addresses[0].street", "#/addresses/0/street"},
		{"Patient.contacts[12].phone", "#/contacts/12/phone"},
		{"User.meta[a.b/c].x", "#/meta/a.b~1c/x"},
		{"User.meta[~tilde]", "#/meta/~0tilde"},
		{"User.meta[a]b].x", "#/meta/a%5Db/x"},
		{"User.meta[with space]", "#/meta/with%20space"},
		{"User.meta[é]", "#/meta/%C3%A9"},
		{"User.meta[50%]", "#/meta/50%25"},
		{"User.meta[#frag]", "#/meta/%23frag"},
		{"User.grid[1][2]", "#/grid/1/2"},
		{"User.m[k][0].v", "#/m/k/0/v"},
		{"User.m[unterminated", "#/m/unterminated"},
		{"User[0]", "#/0"},
		{"User", "#"},
		{"", "#"},
		{"User.a.b.c", "#/a/b/c"},
		{"User.q[?ok]", "#/q/?ok"},
	}
	unrooted := map[string]string{"email": "#/email", "contacts[0].phone": "#/contacts/0/phone", "": "#"}
	for ns, want := range unrooted {
		if got := jsonPointer(ns, false); got != want {
			t.Errorf("jsonPointer(%q, unrooted) = %q, want %q", ns, got, want)
		}
	}
	for _, tt := range tests {
		if got := jsonPointer(tt.namespace, true); got != tt.want {
			t.Errorf("jsonPointer(%q) = %q, want %q", tt.namespace, got, tt.want)
		}
	}
}

func FuzzJSONPointer(f *testing.F) {
	for _, s := range []string{"User.a[0].b", "U.m[a.b/c]", "U.m[]]", "[[[", "U.\xff[\x00]", ".", "U..x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ns string) {
		p := jsonPointer(ns, len(ns)%2 == 0)
		if !strings.HasPrefix(p, "#") {
			t.Fatalf("%q: %q lacks the fragment mark", ns, p)
		}
		for i := 1; i < len(p); i++ {
			c := p[i]
			switch {
			case c == '%':
				if i+2 >= len(p) || !isHexDigit(p[i+1]) || !isHexDigit(p[i+2]) {
					t.Fatalf("%q: bad escape in %q", ns, p)
				}
			case isFragmentByte(c):
			default:
				t.Fatalf("%q: %q holds %q, which a URI fragment cannot", ns, p, c)
			}
		}
	})
}

func isHexDigit(c byte) bool { return strings.IndexByte("0123456789ABCDEFabcdef", c) >= 0 }
