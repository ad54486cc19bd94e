package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestInstance(t *testing.T) {
	tests := []struct {
		name string
		url  *url.URL
		want string
	}{
		{"plain", &url.URL{Path: "/patients/p-1"}, "/patients/p-1"},
		{"query dropped", &url.URL{Path: "/patients", RawQuery: "limit=5"}, "/patients"},
		{"encoded kept", &url.URL{Path: "/a b", RawPath: "/a%20b"}, "/a%20b"},
		{"space escaped", &url.URL{Path: "/a b"}, "/a%20b"},
		{"markup escaped", &url.URL{Path: "/<script>alert(1)</script>"}, "/%3Cscript%3Ealert%281%29%3C/script%3E"},
		{"quotes escaped", &url.URL{Path: `/"x"`}, "/%22x%22"},
		{"CRLF escaped", &url.URL{Path: "/a\r\nSet-Cookie: x"}, "/a%0D%0ASet-Cookie:%20x"},
		{"NUL escaped", &url.URL{Path: "/a\x00b"}, "/a%00b"},
		{"invalid UTF-8 escaped", &url.URL{Path: "/\xff\xfe"}, "/%FF%FE"},
		{"brackets escaped", &url.URL{Path: "/a[0]"}, "/a%5B0%5D"},
		{"network path broken up", &url.URL{Path: "//evil.example/x"}, "/%2Fevil.example/x"},
		{"asterisk", &url.URL{Path: "*"}, "*"},
		{"too long dropped", &url.URL{Path: "/" + strings.Repeat("a", maxInstance)}, ""},
		{"too long after escaping dropped", &url.URL{Path: "/" + strings.Repeat(" ", maxInstance/2)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{URL: tt.url}
			if got := instance(r); got != tt.want {
				t.Errorf("instance = %q, want %q", got, tt.want)
			}
		})
	}
	r := httptest.NewRequest("GET", "/patients/p-1?x=1", nil)
	if a := testing.AllocsPerRun(100, func() { instance(r) }); a != 0 {
		t.Errorf("instance of a clean path allocates %v times", a)
	}
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"MRMuyXWAaTPkLtdGpROGTOXDIYhzmVQi":     true,
		"6f1c2a8e-0b7d-4c1e-9a7b-3d2e1f0a9b8c": true,
		"req:42/a=b+c@d~e_f.g":                 true,
		"":                                     false,
		strings.Repeat("a", 128):               true,
		strings.Repeat("a", 129):               false,
		"<script>":                             false,
		"a b":                                  false,
		"a\r\nb":                               false,
		"é":                                    false,
		`"quoted"`:                             false,
	} {
		if got := ValidRequestID(id); got != want {
			t.Errorf("ValidRequestID(%q) = %v", id, got)
		}
	}
	// Every byte, against the documented set.
	for c := range 256 {
		b := byte(c)
		want := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("-_.:+/=@~", b) >= 0
		if got := ValidRequestID("id" + string([]byte{b})); got != want {
			t.Errorf("ValidRequestID with byte %#x = %v", b, got)
		}
	}
}

func TestTraceID(t *testing.T) {
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := map[string]string{
		"00-" + trace + "-00f067aa0ba902b7-01":                           trace,
		" 00-" + trace + "-00f067aa0ba902b7-00 ":                         trace,
		"01-" + trace + "-00f067aa0ba902b7-01-future-field":              trace,
		"00-" + trace + "-00f067aa0ba902b7-01-extra":                     "",
		"ff-" + trace + "-00f067aa0ba902b7-01":                           "",
		"00-" + strings.ToUpper(trace) + "-00f067aa0ba902b7-01":          "",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01":        "",
		"00-" + trace + "-0000000000000000-01":                           "",
		"00-" + trace + "-00f067aa0ba902b7":                              "",
		"00_" + trace + "_00f067aa0ba902b7_01":                           "",
		"00-" + trace + "-00f067aa0ba902b7-0g":                           "",
		"00-<script>alert(1)</script>aaaaaaaaaaaaaa-00f067aa0ba902b7-01": "",
		"":                         "",
		strings.Repeat("0", 10000): "",
	}
	for header, want := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("traceparent", header)
		if got := traceID(r); got != want {
			t.Errorf("traceID(%.60q) = %q, want %q", header, got, want)
		}
	}
}
