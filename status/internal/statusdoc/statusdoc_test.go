package statusdoc

import (
	"os"
	"strings"
	"testing"
)

func TestParseDocument(t *testing.T) {
	doc, err := os.ReadFile("../../codes.md")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Entries) != 63 {
		t.Errorf("entries = %d, want 63", len(d.Entries))
	}
	var headings []string
	for _, c := range d.Classes {
		headings = append(headings, c.Heading)
		if c.Description == "" {
			t.Errorf("class %q has no description", c.Heading)
		}
	}
	if got := strings.Join(headings, "|"); got != "Informational|Successful|Redirection|Client Error|Server Error" {
		t.Errorf("classes = %s", got)
	}
	first, last := d.Entries[0], d.Entries[len(d.Entries)-1]
	if first.Name != "HTTP_100_CONTINUE" || first.Description != "Continue with the request." {
		t.Errorf("first entry = %+v", first)
	}
	if last.Number != 511 || d.Classes[last.Class].Heading != "Server Error" {
		t.Errorf("last entry = %+v", last)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"entry before any class", "- `HTTP_200_OK` - Fine.\n", "outside a class"},
		{"entry in the wrong class", "### Successful - 2xx\n\n- `HTTP_404_NOT_FOUND` - Gone.\n", "listed under"},
		{"malformed entry", "### Successful - 2xx\n\n- `HTTP_200_OK` Fine.\n", "malformed entry"},
		{"lower-case name", "### Successful - 2xx\n\n- `HTTP_200_ok` - Fine.\n", "malformed entry"},
		{"malformed heading", "### Successful 2xx\n", "malformed class heading"},
		{"duplicate number", "### Successful - 2xx\n\n- `HTTP_200_OK` - A.\n- `HTTP_200_FINE` - B.\n", "twice"},
		{"no entries", "# Nothing here\n", "no status codes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDerivedNames(t *testing.T) {
	tests := []struct{ name, goName, title, slug string }{
		{"HTTP_404_NOT_FOUND", "NotFound", "Not Found", "not-found"},
		{"HTTP_200_OK", "OK", "OK", "ok"},
		{"HTTP_226_IM_USED", "IMUsed", "IM Used", "im-used"},
		{"HTTP_414_REQUEST_URI_TOO_LONG", "RequestURITooLong", "Request URI Too Long", "request-uri-too-long"},
		{"HTTP_505_HTTP_VERSION_NOT_SUPPORTED", "HTTPVersionNotSupported", "HTTP Version Not Supported", "http-version-not-supported"},
		{"HTTP_306_RESERVED", "Reserved", "Reserved", "reserved"},
		{"HTTP_509_BANDWIDTH_LIMIT_EXCEEDED", "BandwidthLimitExceeded", "Bandwidth Limit Exceeded", "bandwidth-limit-exceeded"},
		{"HTTP_203_NON_AUTHORITATIVE_INFORMATION", "NonAuthoritativeInformation", "Non-Authoritative Information", "non-authoritative-information"},
		{"HTTP_207_MULTI_STATUS", "MultiStatus", "Multi-Status", "multi-status"},
		{"HTTP_413_REQUEST_ENTITY_TOO_LARGE", "RequestEntityTooLarge", "Request Entity Too Large", "request-entity-too-large"},
		{"HTTP_422_UNPROCESSABLE_ENTITY", "UnprocessableEntity", "Unprocessable Entity", "unprocessable-entity"},
	}
	for _, tt := range tests {
		if got := GoName(tt.name); got != tt.goName {
			t.Errorf("GoName(%s) = %q, want %q", tt.name, got, tt.goName)
		}
		if got := Title(tt.name); got != tt.title {
			t.Errorf("Title(%s) = %q, want %q", tt.name, got, tt.title)
		}
		if got := Slug(tt.name); got != tt.slug {
			t.Errorf("Slug(%s) = %q, want %q", tt.name, got, tt.slug)
		}
	}
}
