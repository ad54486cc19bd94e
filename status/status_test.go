package status_test

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/virtuheal/apierrors/status"
	"github.com/virtuheal/apierrors/status/internal/statusdoc"
)

func readDoc(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("codes.md")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestGeneratedCodeIsCurrent fails when codes.md changed without
// go generate, or when codes_gen.go was edited by hand.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	want, err := statusdoc.Generate(readDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("codes_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("codes_gen.go is stale: run go generate ./status")
	}
}

// TestCodesMatchDocument parses the Markdown again and compares every
// number, name, class and description with the compiled table.
func TestCodesMatchDocument(t *testing.T) {
	d, err := statusdoc.Parse(readDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	var fromDoc []status.Code
	for _, e := range d.Entries {
		c, ok := status.Lookup(e.Number)
		if !ok {
			t.Errorf("Lookup(%d) = false", e.Number)
			continue
		}
		fromDoc = append(fromDoc, c)
		if int(c) != e.Number {
			t.Errorf("Lookup(%d) = %d", e.Number, c)
		}
		if c.Name() != e.Name {
			t.Errorf("%d.Name() = %q, want %q", e.Number, c.Name(), e.Name)
		}
		if c.Description() != e.Description {
			t.Errorf("%d.Description() = %q, want %q", e.Number, c.Description(), e.Description)
		}
		class := d.Classes[e.Class]
		if c.Class().String() != class.Heading || int(c.Class()) != class.Digit {
			t.Errorf("%d.Class() = %v, want %q", e.Number, c.Class(), class.Heading)
		}
		if c.Class().Description() != class.Description {
			t.Errorf("%d.Class().Description() = %q", e.Number, c.Class().Description())
		}
		if byName, ok := status.ByName(e.Name); !ok || byName != c {
			t.Errorf("ByName(%q) = %v, %v", e.Name, byName, ok)
		}
		if c.Title() != statusdoc.Title(e.Name) || c.Slug() != statusdoc.Slug(e.Name) {
			t.Errorf("%d: title %q, slug %q", e.Number, c.Title(), c.Slug())
		}
		if c.String() != strconv.Itoa(e.Number)+" "+c.Title() {
			t.Errorf("%d.String() = %q", e.Number, c.String())
		}
	}
	if !slices.Equal(status.All(), fromDoc) {
		t.Errorf("All() = %v\nwant %v", status.All(), fromDoc)
	}
	if n := len(status.All()); n != 63 {
		t.Errorf("len(All()) = %d, want 63", n)
	}
}

// TestDocumentIsTheSeed checks codes.md byte for byte against the shared
// seed document when this checkout sits beside it.
func TestDocumentIsTheSeed(t *testing.T) {
	seed, err := os.ReadFile("../../shared/seed/virtuheal-http-status-codes.md")
	if err != nil {
		t.Skip("shared seed document not present beside this checkout")
	}
	if !bytes.Equal(seed, readDoc(t)) {
		t.Fatal("status/codes.md differs from the shared seed document")
	}
}

func TestCodeMethods(t *testing.T) {
	tests := []struct {
		code                   status.Code
		name, title, str, slug string
		class                  string
		isError                bool
	}{
		{status.NotFound, "HTTP_404_NOT_FOUND", "Not Found", "404 Not Found", "not-found", "Client Error", true},
		{status.OK, "HTTP_200_OK", "OK", "200 OK", "ok", "Successful", false},
		{status.IMUsed, "HTTP_226_IM_USED", "IM Used", "226 IM Used", "im-used", "Successful", false},
		{status.RequestEntityTooLarge, "HTTP_413_REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large", "413 Request Entity Too Large", "request-entity-too-large", "Client Error", true},
		{status.RequestURITooLong, "HTTP_414_REQUEST_URI_TOO_LONG", "Request URI Too Long", "414 Request URI Too Long", "request-uri-too-long", "Client Error", true},
		{status.UnprocessableEntity, "HTTP_422_UNPROCESSABLE_ENTITY", "Unprocessable Entity", "422 Unprocessable Entity", "unprocessable-entity", "Client Error", true},
		{status.NonAuthoritativeInformation, "HTTP_203_NON_AUTHORITATIVE_INFORMATION", "Non-Authoritative Information", "203 Non-Authoritative Information", "non-authoritative-information", "Successful", false},
		{status.Reserved, "HTTP_306_RESERVED", "Reserved", "306 Reserved", "reserved", "Redirection", false},
		{status.BandwidthLimitExceeded, "HTTP_509_BANDWIDTH_LIMIT_EXCEEDED", "Bandwidth Limit Exceeded", "509 Bandwidth Limit Exceeded", "bandwidth-limit-exceeded", "Server Error", true},
		{status.HTTPVersionNotSupported, "HTTP_505_HTTP_VERSION_NOT_SUPPORTED", "HTTP Version Not Supported", "505 HTTP Version Not Supported", "http-version-not-supported", "Server Error", true},
		{status.Continue, "HTTP_100_CONTINUE", "Continue", "100 Continue", "continue", "Informational", false},
		{status.Code(418), "", "", "418", "", "Client Error", true},
		{status.Code(599), "", "", "599", "", "Server Error", true},
		{status.Code(0), "", "", "0", "", "Class(0)", false},
		{status.Code(-1), "", "", "-1", "", "Class(0)", false},
		{status.Code(600), "", "", "600", "", "Class(0)", false},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			c := tt.code
			if c.Name() != tt.name || c.Title() != tt.title || c.String() != tt.str || c.Slug() != tt.slug {
				t.Errorf("got name %q title %q string %q slug %q", c.Name(), c.Title(), c.String(), c.Slug())
			}
			if c.Class().String() != tt.class {
				t.Errorf("Class() = %q, want %q", c.Class(), tt.class)
			}
			if c.IsError() != tt.isError {
				t.Errorf("IsError() = %v", c.IsError())
			}
		})
	}
}

func TestLookup(t *testing.T) {
	for _, n := range []int{418, 599, 0, -1, 99, 104, 419, 512, 600, 1 << 40} {
		if c, ok := status.Lookup(n); ok {
			t.Errorf("Lookup(%d) = %v, true; want false", n, c)
		}
	}
	for _, name := range []string{"", "HTTP_418_IM_A_TEAPOT", "http_404_not_found", "NotFound", "404"} {
		if c, ok := status.ByName(name); ok {
			t.Errorf("ByName(%q) = %v, true; want false", name, c)
		}
	}
	if c, ok := status.Lookup(429); !ok || c != status.TooManyRequests {
		t.Errorf("Lookup(429) = %v, %v", c, ok)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		n    int
		want status.Code
		ok   bool
	}{
		{404, status.NotFound, true},
		{429, status.TooManyRequests, true},
		{511, status.NetworkAuthenticationRequired, true},
		{418, status.BadRequest, false},
		{499, status.BadRequest, false},
		{599, status.InternalServerError, false},
		{200, status.InternalServerError, false},
		{302, status.InternalServerError, false},
		{0, status.InternalServerError, false},
		{-404, status.InternalServerError, false},
		{600, status.InternalServerError, false},
		{4040, status.InternalServerError, false},
	}
	for _, tt := range tests {
		got, ok := status.ErrorCode(tt.n)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ErrorCode(%d) = %v, %v; want %v, %v", tt.n, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAllIsACopy(t *testing.T) {
	all := status.All()
	all[0] = status.Code(999)
	if status.All()[0] != status.Continue {
		t.Fatal("All() shares its backing array with the package")
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	var sink string
	allocs := testing.AllocsPerRun(1000, func() {
		c, _ := status.Lookup(404)
		b, _ := status.ByName("HTTP_503_SERVICE_UNAVAILABLE")
		sink = c.Name() + b.Title()[:0] + c.Description()[:0] + c.Slug()[:0]
		sink = c.String() + status.Code(418).Title()
		_ = c.Class().String()
	})
	_ = sink
	if allocs != 0 {
		t.Fatalf("lookups allocate %v times per run", allocs)
	}
}
