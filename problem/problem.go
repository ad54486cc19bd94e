// Package problem is the RFC 9457 problem details format: the error type a
// service returns, its JSON and XML encodings, a writer for net/http, and
// Parse for API consumers.
//
// It depends on the standard library and the status package only, so an
// API client can import it without pulling in a web framework.
package problem

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/virtuheal/apierrors/status"
)

// Media types of the two encodings (RFC 9457 §3 and Appendix B).
const (
	MediaType    = "application/problem+json"
	MediaTypeXML = "application/problem+xml"
)

// BlankType is the problem type of a problem that has no semantics beyond
// its HTTP status code. An empty Type means BlankType (RFC 9457 §3.1.1).
const BlankType = "about:blank"

// A Problem is a problem details object. It is also an error, so a handler
// can return one directly; its cause, if any, is reachable with errors.Is
// and errors.As but is never encoded.
//
// The With methods return a modified copy and leave the receiver alone, so
// a Problem declared once at package level can be specialised per request
// without a data race.
type Problem struct {
	// Type is a URI reference that identifies the problem type. Empty
	// means BlankType.
	Type string
	// Title is a short summary of the problem type.
	Title string
	// Status is the HTTP status code.
	Status int
	// Detail explains this occurrence of the problem to the client.
	Detail string
	// Instance is a URI reference that identifies this occurrence.
	Instance string
	// Extensions are additional members, encoded at the top level beside
	// the standard ones. A key equal to a standard member's name is never
	// encoded: an extension cannot shadow a standard member.
	Extensions map[string]any

	cause error
}

// New returns a problem for a documented status code, with the code's
// documented title and, as its detail, the documented description.
func New(code status.Code) *Problem {
	return &Problem{Title: code.Title(), Status: int(code), Detail: code.Description()}
}

// isStandard reports whether name is one of the five standard members.
func isStandard(name string) bool {
	switch name {
	case "type", "title", "status", "detail", "instance":
		return true
	}
	return false
}

// setMember sets the standard member name from its text, and reports
// whether the text has the member's type: status must be an integer.
func (p *Problem) setMember(name, text string) bool {
	switch name {
	case "type":
		p.Type = text
	case "title":
		p.Title = text
	case "detail":
		p.Detail = text
	case "instance":
		p.Instance = text
	case "status":
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return false
		}
		p.Status = n
	default:
		return false
	}
	return true
}

func (p *Problem) clone() *Problem {
	q := *p
	return &q
}

// WithDetail returns a copy of p with the given detail. The detail is sent
// to the client: it must help the client, never reveal internals.
func (p *Problem) WithDetail(detail string) *Problem {
	q := p.clone()
	q.Detail = detail
	return q
}

// WithDetailf is WithDetail with a format string, as in fmt.Sprintf.
func (p *Problem) WithDetailf(format string, args ...any) *Problem {
	return p.WithDetail(fmt.Sprintf(format, args...))
}

// WithType returns a copy of p with the given type URI reference.
func (p *Problem) WithType(uri string) *Problem {
	q := p.clone()
	q.Type = uri
	return q
}

// WithInstance returns a copy of p with the given instance URI reference.
func (p *Problem) WithInstance(uri string) *Problem {
	q := p.clone()
	q.Instance = uri
	return q
}

// With returns a copy of p with the extension member key set to value.
// The value must encode with encoding/json. A key that names a standard
// member is ignored.
func (p *Problem) With(key string, value any) *Problem {
	q := p.clone()
	if isStandard(key) {
		return q
	}
	q.Extensions = maps.Clone(p.Extensions)
	if q.Extensions == nil {
		q.Extensions = make(map[string]any, 1)
	}
	q.Extensions[key] = value
	return q
}

// WithCause returns a copy of p that wraps err. The cause is for logs and
// for errors.Is and errors.As; it is never encoded.
func (p *Problem) WithCause(err error) *Problem {
	q := p.clone()
	q.cause = err
	return q
}

// Unwrap returns the cause set with WithCause.
func (p *Problem) Unwrap() error {
	if p == nil {
		return nil
	}
	return p.cause
}

// Error describes the problem for logs: status, title, detail and cause.
func (p *Problem) Error() string {
	if p == nil {
		return "<nil problem>"
	}
	s := strconv.Itoa(p.Status)
	if p.Title != "" {
		s += " " + p.Title
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	if p.cause != nil {
		s += ": " + p.cause.Error()
	}
	return s
}

// FieldError is one entry of the "errors" extension of a validation
// problem, in the shape of the example in RFC 9457 §3: what is wrong
// (Detail) and where. Exactly one of Pointer, Parameter and Header says
// where. The rejected value is never part of it.
type FieldError struct {
	// Detail is a human-readable message, such as "email must be a valid
	// email address".
	Detail string `json:"detail"`
	// Pointer locates the field in the request body: an RFC 6901 JSON
	// Pointer in URI fragment form, such as "#/contacts/0/phone".
	Pointer string `json:"pointer,omitempty"`
	// Parameter names the query or path parameter, such as "limit".
	Parameter string `json:"parameter,omitempty"`
	// Header names the request header.
	Header string `json:"header,omitempty"`
	// Rule is the validation rule that failed, such as "email" or "max".
	Rule string `json:"rule,omitempty"`
	// RuleParam is the rule's parameter, such as "100" for max=100.
	RuleParam string `json:"param,omitempty"`
}

// ErrorsKey is the extension member that holds a validation problem's
// []FieldError, or its *EncodedErrors.
const ErrorsKey = "errors"

// EncodedErrors is a list of field errors with its JSON encoding, made
// once. As an extension value it encodes to the same bytes as the list,
// by copying them: for a list that recurs, such as the failures of one
// form, which a server sends again and again.
type EncodedErrors struct {
	list []FieldError
	json []byte
}

// EncodeErrors encodes list, which it copies.
func EncodeErrors(list []FieldError) *EncodedErrors {
	return &EncodedErrors{list: slices.Clone(list), json: appendFieldErrors(nil, list)}
}

// Errors returns a copy of the list.
func (e *EncodedErrors) Errors() []FieldError { return slices.Clone(e.list) }

// MarshalJSON implements json.Marshaler.
func (e *EncodedErrors) MarshalJSON() ([]byte, error) { return slices.Clone(e.json), nil }

// Errors returns the entries of the "errors" extension, whether it was set
// by a server as []FieldError or *EncodedErrors, or decoded from JSON or
// XML. Members of the wrong type are skipped.
func (p *Problem) Errors() []FieldError {
	switch v := p.Extensions[ErrorsKey].(type) {
	case []FieldError:
		return v
	case *EncodedErrors:
		if v == nil {
			return nil
		}
		return v.Errors()
	case []any:
		out := make([]FieldError, 0, len(v))
		for _, item := range v {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			str := func(k string) string { s, _ := m[k].(string); return s }
			out = append(out, FieldError{
				Detail:    str("detail"),
				Pointer:   str("pointer"),
				Parameter: str("parameter"),
				Header:    str("header"),
				Rule:      str("rule"),
				RuleParam: str("param"),
			})
		}
		return out
	}
	return nil
}
