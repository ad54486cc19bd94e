package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/openapi"
	"github.com/virtuheal/apierrors/status"
)

// Document returns the clinic's OpenAPI 3 document. Its error responses
// are the library's problem components, so the document says exactly
// what the middleware sends.
func Document(problemBase string) map[string]any {
	comps := openapi.Components(problemBase,
		status.BadRequest, status.Unauthorized, status.Forbidden, status.NotFound,
		status.Conflict, status.RequestEntityTooLarge, status.UnsupportedMediaType,
		status.UnprocessableEntity, status.TooManyRequests, status.InternalServerError,
		status.ServiceUnavailable)

	schemas := comps.Schemas
	schemas["Contact"] = object(map[string]any{
		"name":  str(),
		"phone": map[string]any{"type": "string", "description": "E.164, such as +441234567890"},
	}, "name", "phone")
	schemas["Patient"] = object(map[string]any{
		"id":         str(),
		"name":       str(),
		"email":      map[string]any{"type": "string", "format": "email"},
		"birth_date": map[string]any{"type": "string", "format": "date"},
		"contacts":   map[string]any{"type": "array", "nullable": true, "items": schemaRef("Contact")},
		"created_at": map[string]any{"type": "string", "format": "date-time"},
	}, "id", "name", "email", "birth_date", "created_at")
	schemas["NewPatient"] = object(map[string]any{
		"name":       str(),
		"email":      map[string]any{"type": "string", "format": "email"},
		"birth_date": map[string]any{"type": "string", "format": "date"},
		"contacts":   map[string]any{"type": "array", "maxItems": 10, "items": schemaRef("Contact")},
	}, "name", "email", "birth_date")

	authed := []any{map[string]any{"bearer": []any{}}}
	read := []status.Code{status.Unauthorized, status.TooManyRequests, status.InternalServerError, status.ServiceUnavailable}
	write := append([]status.Code{status.Forbidden}, read...)

	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "Clinic",
			"version":     "1.0.0",
			"description": "A Virtuheal-style service. Every error is an RFC 9457 problem; see the problem schemas.",
		},
		"paths": map[string]any{
			"/healthz": map[string]any{
				"get": operation("Liveness", nil, ok(http.StatusOK, map[string]any{"type": "object"})),
			},
			"/patients": map[string]any{
				"get": withAuth(authed, operation("List patients", append([]status.Code{status.BadRequest, status.UnprocessableEntity}, read...),
					ok(http.StatusOK, object(map[string]any{"patients": map[string]any{"type": "array", "items": schemaRef("Patient")}}, "patients")),
					map[string]any{"parameters": []any{map[string]any{
						"name": "limit", "in": "query", "required": false,
						"schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
					}}})),
				"post": withAuth(authed, operation("Register a patient", append([]status.Code{
					status.BadRequest, status.Conflict, status.RequestEntityTooLarge, status.UnsupportedMediaType, status.UnprocessableEntity,
				}, write...),
					map[string]any{"201": map[string]any{
						"description": "Created",
						"headers":     map[string]any{"Location": map[string]any{"schema": str()}},
						"content":     map[string]any{"application/json": map[string]any{"schema": schemaRef("Patient")}},
					}},
					map[string]any{"requestBody": map[string]any{
						"required": true,
						"content":  map[string]any{"application/json": map[string]any{"schema": schemaRef("NewPatient")}},
					}})),
			},
			"/patients/{id}": map[string]any{
				"parameters": []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": str()}},
				"get":        withAuth(authed, operation("Get a patient", append([]status.Code{status.NotFound}, read...), ok(http.StatusOK, schemaRef("Patient")))),
				"delete": withAuth(authed, operation("Delete a patient", append([]status.Code{status.NotFound}, write...),
					map[string]any{"204": map[string]any{"description": "Deleted"}})),
			},
			"/reports/slow": map[string]any{
				"get": operation("A report that outlives the request deadline", []status.Code{status.InternalServerError, status.ServiceUnavailable},
					ok(http.StatusOK, map[string]any{"type": "object"})),
			},
			"/debug/panic": map[string]any{
				"get": operation("Panics with msg", []status.Code{status.InternalServerError}, nil, msgParam()),
			},
			"/debug/error": map[string]any{
				"get": operation("Fails with an internal error that includes msg", []status.Code{status.InternalServerError}, nil, msgParam()),
			},
		},
		"components": map[string]any{
			"schemas":   schemas,
			"responses": comps.Responses,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
}

// operation builds an operation whose error responses reference the
// problem responses.
func operation(summary string, errs []status.Code, success map[string]any, extra ...map[string]any) map[string]any {
	responses := map[string]any{}
	for code, r := range success {
		responses[code] = r
	}
	for _, c := range errs {
		responses[strconv.Itoa(int(c))] = openapi.ResponseRef(c)
	}
	op := map[string]any{"summary": summary, "responses": responses}
	for _, x := range extra {
		for k, v := range x {
			op[k] = v
		}
	}
	return op
}

func withAuth(security []any, op map[string]any) map[string]any {
	op["security"] = security
	return op
}

func ok(code int, schema map[string]any) map[string]any {
	return map[string]any{strconv.Itoa(code): map[string]any{
		"description": http.StatusText(code),
		"content":     map[string]any{"application/json": map[string]any{"schema": schema}},
	}}
}

func msgParam() map[string]any {
	return map[string]any{"parameters": []any{map[string]any{"name": "msg", "in": "query", "schema": str()}}}
}

func object(props map[string]any, required ...string) map[string]any {
	req := make([]any, len(required))
	for i, r := range required {
		req[i] = r
	}
	return map[string]any{"type": "object", "properties": props, "required": req}
}

func str() map[string]any { return map[string]any{"type": "string"} }

func schemaRef(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// serveOpenAPI serves the document, encoded once.
func serveOpenAPI(problemBase string) echo.HandlerFunc {
	doc, err := json.MarshalIndent(Document(problemBase), "", "  ")
	if err != nil {
		panic("clinic: OpenAPI document does not encode: " + err.Error())
	}
	return func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, doc)
	}
}
