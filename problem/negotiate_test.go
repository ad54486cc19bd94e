package problem_test

import (
	"strings"
	"testing"

	"github.com/virtuheal/apierrors/problem"
)

func TestNegotiate(t *testing.T) {
	const j, x = problem.MediaType, problem.MediaTypeXML
	tests := []struct{ accept, want string }{
		{"", j},
		{"*/*", j},
		{"application/json", j},
		{"application/problem+json", j},
		{"application/vnd.api+json", j},
		{"application/xml", x},
		{"application/problem+xml", x},
		{"text/xml", x},
		{"application/atom+xml", x},
		{"APPLICATION/XML", x},
		{"text/html", j},
		{"image/png, text/plain", j},
		{"application/xml, application/json", j},
		{"application/json;q=0.5, application/xml", x},
		{"application/xml;q=0.9, application/json;q=0.8", x},
		{"application/xml;q=0.8, application/json;q=0.8", j},
		{"application/json;q=0, */*", x},
		{"application/xml;q=0, */*", j},
		{"text/*", x},
		{"application/*", j},
		{"application/xml, */*;q=0.1", x},
		{"application/xml;q=0", j},
		{"application/xml;q=2", j},
		{"application/xml;q=0.1234", j},
		{"application/xml;q=abc", j},
		{"application/xml ; q=1.000", x},
		{"application/xml;level=1;q=0.7, application/json;q=0.6", x},
		{"garbage", j},
		{",,,;;;===", j},
		{"application/xml;q=", j},
		{strings.Repeat("text/html, ", 100) + "application/xml", j},
		{strings.Repeat("a", 10000), j},
	}
	for _, tt := range tests {
		if got := problem.Negotiate(tt.accept); got != tt.want {
			name := tt.accept
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			t.Errorf("Negotiate(%q) = %s, want %s", name, got, tt.want)
		}
	}
}

func TestNegotiateDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		problem.Negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	})
	if allocs != 0 {
		t.Errorf("Negotiate allocates %v times", allocs)
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/xml;q=0.5, application/json", "text/*;q=0", ";q=1,/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := problem.Negotiate(accept)
		if got != problem.MediaType && got != problem.MediaTypeXML {
			t.Fatalf("Negotiate(%q) = %q", accept, got)
		}
		if !strings.Contains(strings.ToLower(accept), "xml") && !strings.Contains(accept, "*") && got != problem.MediaType {
			t.Fatalf("Negotiate(%q) picked XML without an XML range", accept)
		}
	})
}
