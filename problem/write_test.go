package problem_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name, method, accept string
		p                    *problem.Problem
		wantStatus           int
		wantType             string
		wantBody             bool
	}{
		{"JSON by default", "GET", "", problem.New(status.NotFound), 404, problem.MediaType, true},
		{"XML when preferred", "GET", "application/xml", problem.New(status.Conflict), 409, problem.MediaTypeXML, true},
		{"HEAD has no body", "HEAD", "", problem.New(status.Gone), 410, problem.MediaType, false},
		{"undocumented 4xx becomes 400", "GET", "", &problem.Problem{Status: 418}, 400, problem.MediaType, true},
		{"success status becomes 500", "GET", "", &problem.Problem{Status: 200, Title: "OK?"}, 500, problem.MediaType, true},
		{"no status becomes 500", "GET", "", &problem.Problem{}, 500, problem.MediaType, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/x", nil)
			if tt.accept != "" {
				r.Header.Set("Accept", tt.accept)
			}
			w := httptest.NewRecorder()
			if err := problem.Write(w, r, tt.p); err != nil {
				t.Fatal(err)
			}
			res := w.Result()
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			for h, want := range map[string]string{
				"Content-Type":           tt.wantType,
				"Vary":                   "Accept",
				"Cache-Control":          "no-store",
				"X-Content-Type-Options": "nosniff",
			} {
				if got := res.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			body := w.Body.Bytes()
			if !tt.wantBody {
				if len(body) != 0 {
					t.Fatalf("HEAD response has a body: %q", body)
				}
				return
			}
			if res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length = %s for %d bytes", res.Header.Get("Content-Length"), len(body))
			}
			if tt.wantType == problem.MediaType {
				if err := problemtest.ValidateSchema(body); err != nil {
					t.Errorf("schema: %v", err)
				}
			}
			p, err := problem.Parse(res)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.wantStatus {
				t.Errorf("body status %d, HTTP status %d", p.Status, tt.wantStatus)
			}
			if p.Title == "" {
				t.Error("no title")
			}
		})
	}
}

func TestWriteKeepsVary(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Vary", "Origin")
	if err := problem.Write(w, httptest.NewRequest("GET", "/", nil), problem.New(status.Forbidden)); err != nil {
		t.Fatal(err)
	}
	if got := w.Header().Values("Vary"); len(got) != 2 || got[0] != "Origin" || got[1] != "Accept" {
		t.Errorf("Vary = %q", got)
	}

	w = httptest.NewRecorder()
	w.Header().Set("Vary", "origin, accept")
	_ = problem.Write(w, httptest.NewRequest("GET", "/", nil), problem.New(status.Forbidden))
	if got := w.Header().Values("Vary"); len(got) != 1 {
		t.Errorf("Vary = %q, want Accept not repeated", got)
	}
}

func TestWriteUnencodableSendsNothing(t *testing.T) {
	w := httptest.NewRecorder()
	err := problem.Write(w, httptest.NewRequest("GET", "/", nil), problem.New(status.BadRequest).With("x", math.Inf(1)))
	if err == nil {
		t.Fatal("no error")
	}
	if w.Code != http.StatusOK || w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Errorf("something was written: %d %v %q", w.Code, w.Header(), w.Body)
	}
}

func TestSetHeadersSharesNothingMutable(t *testing.T) {
	a, b := http.Header{}, http.Header{}
	problem.SetHeaders(a, problem.MediaType)
	problem.SetHeaders(b, problem.MediaType)
	a.Add("Vary", "Origin")
	a.Add("Cache-Control", "private")
	if got := b.Values("Vary"); len(got) != 1 || got[0] != "Accept" {
		t.Errorf("adding to one response's Vary changed another's: %q", got)
	}
	if got := b.Values("Cache-Control"); len(got) != 1 {
		t.Errorf("Cache-Control leaked across responses: %q", got)
	}
	allocs := testing.AllocsPerRun(100, func() {
		h := http.Header{}
		problem.SetHeaders(h, problem.MediaTypeXML)
	})
	if allocs > 1 { // the map itself
		t.Errorf("SetHeaders allocates %v times", allocs)
	}
}
