package openapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/virtuheal/apierrors/openapi"
	"github.com/virtuheal/apierrors/status"
)

// load puts the components into a minimal document and loads it with
// kin-openapi, which validates schemas, references and examples.
func load(t *testing.T, set openapi.Set) *openapi3.T {
	t.Helper()
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "t", "version": "1"},
		"paths":   map[string]any{},
		"components": map[string]any{
			"schemas":   set.Schemas,
			"responses": set.Responses,
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(context.Background()); err != nil {
		t.Fatalf("invalid components: %v", err)
	}
	return d
}

func TestComponents(t *testing.T) {
	// Every code, success codes too: they must be skipped, as must 418.
	set := openapi.Components("https://api.virtuheal.com/problems/", append(status.All(), status.Code(418))...)
	doc := load(t, set)

	for _, c := range status.All() {
		r := doc.Components.Responses[openapi.ResponseName(c)]
		if !c.IsError() {
			if r != nil {
				t.Errorf("%v has a problem response", c)
			}
			continue
		}
		if r == nil || r.Value == nil {
			t.Fatalf("no response for %v", c)
		}
		media := r.Value.Content.Get("application/problem+json")
		if media == nil {
			t.Fatalf("%v: no application/problem+json content", c)
		}
		// The example is what the middleware sends; the schema must accept it.
		if err := media.Schema.Value.VisitJSON(media.Example); err != nil {
			t.Errorf("%v: the schema rejects its own example: %v", c, err)
		}
		ex := media.Example.(map[string]any)
		if ex["type"] != "https://api.virtuheal.com/problems/"+c.Slug() || ex["title"] != c.Title() || ex["status"] != float64(c) {
			t.Errorf("%v: example = %v", c, ex)
		}
		if want := c.Title() + ": " + c.Description(); *r.Value.Description != want {
			t.Errorf("%v: description %q", c, *r.Value.Description)
		}
	}
	if len(set.Responses) != 40 {
		t.Errorf("%d responses, want one per documented error code (40)", len(set.Responses))
	}

	headers := map[status.Code]string{status.Unauthorized: "WWW-Authenticate", status.MethodNotAllowed: "Allow", status.TooManyRequests: "Retry-After", status.ServiceUnavailable: "Retry-After"}
	for c, h := range headers {
		if doc.Components.Responses[openapi.ResponseName(c)].Value.Headers[h] == nil {
			t.Errorf("%v does not declare %s", c, h)
		}
	}

	validation := doc.Components.Responses["unprocessable-entity"].Value.Content.Get("application/problem+json").Schema
	if validation.Ref != "#/components/schemas/ValidationProblem" {
		t.Errorf("422 uses %s", validation.Ref)
	}
	withoutErrors := map[string]any{"type": "about:blank", "title": "Unprocessable Entity", "status": 422.0}
	if err := validation.Value.VisitJSON(withoutErrors); err == nil {
		t.Error("a 422 without errors passes the ValidationProblem schema")
	}
	leaky := map[string]any{"type": "about:blank", "title": "x", "status": 422.0, "errors": []any{map[string]any{"pointer": "#/a"}}}
	if err := validation.Value.VisitJSON(leaky); err == nil {
		t.Error("a field error without detail passes")
	}
}

func TestResponseRef(t *testing.T) {
	if got := openapi.ResponseRef(status.NotFound)["$ref"]; got != "#/components/responses/not-found" {
		t.Errorf("ResponseRef = %v", got)
	}
	set := openapi.Components("", status.NotFound)
	ex := load(t, set).Components.Responses["not-found"].Value.Content.Get("application/problem+json").Example.(map[string]any)
	if ex["type"] != "about:blank" {
		t.Errorf("without a type base the example's type is %v", ex["type"])
	}
}
