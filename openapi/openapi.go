// Package openapi describes problem responses in OpenAPI 3.0, so that a
// service's API document states exactly what the middleware sends.
//
// Components returns the schemas and one response object per documented
// error code the service declares; ResponseRef points an operation's
// response at one of them:
//
//	comps := openapi.Components("/problems/", status.BadRequest, status.NotFound, status.UnprocessableEntity)
//	doc["components"] = map[string]any{"schemas": comps.Schemas, "responses": comps.Responses}
//	op["responses"] = map[string]any{"404": openapi.ResponseRef(status.NotFound)}
//
// The values are plain maps and slices, ready for encoding/json.
package openapi

import (
	"encoding/json"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// Names of the schemas Components defines.
const (
	ProblemSchema           = "Problem"
	ValidationProblemSchema = "ValidationProblem"
	FieldErrorSchema        = "FieldError"
)

// Set is a set of OpenAPI components: the "schemas" and "responses"
// members of a document's "components" object.
type Set struct {
	Schemas   map[string]any `json:"schemas"`
	Responses map[string]any `json:"responses"`
}

// Components returns the problem schemas, and a response object for each
// of codes, named by the code's slug ("not-found"). typeBase is the
// middleware's Config.TypeBase: the examples carry the type URIs the
// service sends. Codes that are not documented error codes are skipped.
// 422 responses use the ValidationProblem schema; the rest use Problem.
func Components(typeBase string, codes ...status.Code) Set {
	s := Set{Schemas: Schemas(), Responses: map[string]any{}}
	for _, c := range codes {
		if documented, ok := status.ErrorCode(int(c)); ok && documented == c {
			s.Responses[ResponseName(c)] = Response(typeBase, c)
		}
	}
	return s
}

// ResponseName is the name of code's response in Components: its slug.
func ResponseName(code status.Code) string { return code.Slug() }

// ResponseRef returns a reference to code's response in Components.
func ResponseRef(code status.Code) map[string]any {
	return ref("responses", ResponseName(code))
}

func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}

// Schemas returns the schemas of problem bodies: Problem (RFC 9457 §3.1
// and the extensions the middleware adds), ValidationProblem (a Problem
// whose "errors" lists each failed field) and FieldError.
func Schemas() map[string]any {
	uriRef := func(description string) map[string]any {
		return map[string]any{"type": "string", "format": "uri-reference", "description": description}
	}
	str := func(description string) map[string]any {
		return map[string]any{"type": "string", "description": description}
	}
	return map[string]any{
		ProblemSchema: map[string]any{
			"type":        "object",
			"description": "An RFC 9457 problem details object.",
			"properties": map[string]any{
				"type":  uriRef("A URI reference that identifies the problem type; it resolves to its documentation."),
				"title": str("A short summary of the problem type, in the language of Content-Language."),
				"status": map[string]any{
					"type": "integer", "minimum": 100, "maximum": 599,
					"description": "The HTTP status code of this response.",
				},
				"detail":     str("An explanation specific to this occurrence, meant to help the client."),
				"instance":   uriRef("The path of the request that failed."),
				"request_id": str("The request's id, when it has one; quote it when reporting a problem."),
				"trace_id":   map[string]any{"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "The W3C trace id of the request, when it sent a traceparent."},
				"errors": map[string]any{
					"type": "array", "items": ref("schemas", FieldErrorSchema),
					"description": "What is wrong with each field, when the request's fields are at fault.",
				},
			},
			"required":             []any{"type", "title", "status"},
			"additionalProperties": true,
		},
		ValidationProblemSchema: map[string]any{
			"description": "A problem whose errors list every field that failed validation.",
			"allOf": []any{
				ref("schemas", ProblemSchema),
				map[string]any{"type": "object", "required": []any{"errors"}},
			},
		},
		FieldErrorSchema: map[string]any{
			"type":        "object",
			"description": "One failed field. Exactly one of pointer, parameter and header says where; the rejected value is never included.",
			"properties": map[string]any{
				"detail":    str("What is wrong, in the language of Content-Language."),
				"pointer":   str("An RFC 6901 JSON Pointer, in URI fragment form, to the field in the request body, such as #/contacts/0/phone."),
				"parameter": str("The query or path parameter at fault."),
				"header":    str("The request header at fault."),
				"rule":      str("The validation rule that failed, such as required or email."),
				"param":     str("The rule's parameter, such as 100 for max=100."),
			},
			"required": []any{"detail"},
		},
	}
}

// Response returns the response object for code: a description from the
// documented table, the headers the middleware sends with it, and an
// example body.
func Response(typeBase string, code status.Code) map[string]any {
	schema := ProblemSchema
	if code == status.UnprocessableEntity {
		schema = ValidationProblemSchema
	}
	example := problem.New(code).WithInstance("/patients/p-1")
	if typeBase != "" {
		example = example.WithType(typeBase + code.Slug())
	}
	if code == status.UnprocessableEntity {
		example = example.With(problem.ErrorsKey, []problem.FieldError{
			{Detail: "email must be a valid email address", Pointer: "#/email", Rule: "email"},
		})
	}
	r := map[string]any{
		"description": code.Title() + ": " + code.Description(),
		"content": map[string]any{
			problem.MediaType: map[string]any{
				"schema":  ref("schemas", schema),
				"example": exampleValue(example),
			},
		},
	}
	if h := headers(code); len(h) > 0 {
		r["headers"] = h
	}
	return r
}

// headers describes the headers the middleware adds for code.
func headers(code status.Code) map[string]any {
	h := map[string]any{
		"Content-Language": map[string]any{"description": "The language of title and of the errors' details.", "schema": map[string]any{"type": "string"}},
	}
	switch code {
	case status.Unauthorized:
		h["WWW-Authenticate"] = map[string]any{"description": "The authentication scheme to use.", "schema": map[string]any{"type": "string"}}
	case status.MethodNotAllowed:
		h["Allow"] = map[string]any{"description": "The methods the resource supports.", "schema": map[string]any{"type": "string"}}
	case status.TooManyRequests, status.ServiceUnavailable:
		h["Retry-After"] = map[string]any{
			"description": "Seconds to wait before retrying.",
			"schema":      map[string]any{"type": "integer", "minimum": 0},
		}
	}
	return h
}

// exampleValue turns a problem into the generic JSON value OpenAPI
// examples hold.
func exampleValue(p *problem.Problem) any {
	body, err := p.MarshalJSON()
	if err != nil {
		panic("openapi: example problem does not encode: " + err.Error())
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		panic("openapi: " + err.Error())
	}
	return v
}
