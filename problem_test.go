package apierrors_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// TestEveryDocumentedCodeRoundTrips takes each documented code through the
// status table, the problem encoder, the net/http writer and the consumer
// parser, in JSON and XML, and checks nothing is lost on the way.
func TestEveryDocumentedCodeRoundTrips(t *testing.T) {
	for _, code := range status.All() {
		if c, ok := status.Lookup(int(code)); !ok || c != code {
			t.Errorf("Lookup(%d) = %v, %v", code, c, ok)
		}
		if c, ok := status.ByName(code.Name()); !ok || c != code {
			t.Errorf("ByName(%s) = %v, %v", code.Name(), c, ok)
		}
		p := problem.New(code).WithInstance("/patients/p-1")

		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := problemtest.ValidateSchema(body); err != nil {
			t.Errorf("%v: Appendix A schema rejects %s: %v", code, body, err)
		}
		var back problem.Problem
		if err := json.Unmarshal(body, &back); err != nil {
			t.Fatal(err)
		}
		if back.Status != int(code) || back.Title != code.Title() || back.Detail != code.Description() || back.Type != problem.BlankType {
			t.Errorf("%v: JSON round trip gave %+v", code, back)
		}

		if !code.IsError() {
			continue // Write sends error codes only
		}
		for _, accept := range []string{"application/json", "application/xml"} {
			r := httptest.NewRequest("GET", "/patients/p-1", nil)
			r.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			if err := problem.Write(w, r, p); err != nil {
				t.Fatal(err)
			}
			if w.Code != int(code) {
				t.Errorf("%v via %s: HTTP status %d", code, accept, w.Code)
			}
			got, err := problem.Parse(w.Result())
			if err != nil {
				t.Fatalf("%v via %s: %v", code, accept, err)
			}
			if got.Status != int(code) || got.Title != code.Title() || got.Detail != code.Description() || got.Instance != "/patients/p-1" {
				t.Errorf("%v via %s: parsed %+v", code, accept, got)
			}
		}
	}
}
