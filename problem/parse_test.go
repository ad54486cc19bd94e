package problem_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/virtuheal/apierrors/problem"
)

func response(code int, contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name       string
		resp       *http.Response
		wantStatus int
		wantTitle  string
	}{
		{"problem+json", response(404, "application/problem+json", `{"title":"Not Found","status":404}`), 404, "Not Found"},
		{"with charset", response(409, "application/problem+json; charset=utf-8", `{"title":"Conflict","status":409}`), 409, "Conflict"},
		{"problem+xml", response(403, "application/problem+xml", rfcXML), 403, "You do not have enough credit."},
		{"status from the response", response(422, "application/problem+json", rfcValidation), 422, "Your request is not valid."},
		{"plain JSON with problem members", response(400, "application/json", `{"title":"Bad Request","detail":"x"}`), 400, "Bad Request"},
		{"body status kept when it differs", response(502, "application/problem+json", `{"status":503}`), 503, ""},
		{"empty body, as for HEAD", response(429, "application/problem+json", ""), 429, "Too Many Requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := problem.Parse(tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.wantStatus || p.Title != tt.wantTitle {
				t.Errorf("got status %d title %q", p.Status, p.Title)
			}
		})
	}
}

func TestParseNotAProblem(t *testing.T) {
	tests := map[string]*http.Response{
		"HTML":                  response(500, "text/html", "<h1>oops</h1>"),
		"no Content-Type":       response(500, "", `{"title":"x"}`),
		"bad Content-Type":      response(500, "application/", `{"title":"x"}`),
		"Echo's default body":   response(404, "application/json", `{"message":"Not Found"}`),
		"JSON array":            response(400, "application/json", `[1]`),
		"empty plain JSON":      response(400, "application/json", ``),
		"plain JSON, malformed": response(400, "application/json", `{"title":`),
	}
	for name, resp := range tests {
		t.Run(name, func(t *testing.T) {
			if p, err := problem.Parse(resp); !errors.Is(err, problem.ErrNotProblem) {
				t.Errorf("Parse = %+v, %v; want ErrNotProblem", p, err)
			}
		})
	}
}

func TestParseMalformedProblem(t *testing.T) {
	for name, resp := range map[string]*http.Response{
		"truncated JSON": response(400, "application/problem+json", `{"title":"x"`),
		"not an object":  response(400, "application/problem+json", `"x"`),
		"deep JSON":      response(400, "application/problem+json", `{"x":`+strings.Repeat("[", 20000)),
		"XML wrong root": response(400, "application/problem+xml", `<error/>`),
	} {
		t.Run(name, func(t *testing.T) {
			p, err := problem.Parse(resp)
			if err == nil || errors.Is(err, problem.ErrNotProblem) {
				t.Errorf("Parse = %+v, %v; want a malformed-problem error", p, err)
			}
		})
	}
}

// endless is a body that never ends, as a hostile server might send.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.read += len(p)
	return len(p), nil
}

func TestParseIsBounded(t *testing.T) {
	body := &endless{}
	resp := &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {problem.MediaType}}, Body: io.NopCloser(body)}
	if _, err := problem.Parse(resp); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Parse error = %v", err)
	}
	if body.read > problem.MaxParseSize+64*1024 {
		t.Errorf("read %d bytes; the bound is %d", body.read, problem.MaxParseSize)
	}

	big := `{"title":"` + strings.Repeat("x", problem.MaxParseSize) + `"}`
	if _, err := problem.Parse(response(500, problem.MediaType, big)); err == nil {
		t.Error("a body over the bound parsed")
	}
}
