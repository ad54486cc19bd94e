package apierrors_test

// The leak canary. The library promises that a response never carries an
// internal error's text, a stack, a Go type name or a file path, and never
// echoes a rejected input value. These tests plant a fresh random secret in
// every kind of error the mapping table of middleware/mapping.go knows,
// serve it through a real server, and look for the secret, and for the
// marks of stacks, type names and paths, in every header and body.

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// canaryTypeBase is the configured TypeBase: the only place where a
// forbidden mark such as "github.com/" could legitimately appear.
const canaryTypeBase = "/problems/"

// canarySecretHeader carries each request's secret to its handler.
const canarySecretHeader = "X-Canary-Secret"

// canaryForbidden are the marks of internals that no response may carry,
// whatever the case: stacks, file paths, Go package, type and field names.
var canaryForbidden = []string{
	".go:",       // a file path with a line number
	"goroutine ", // a stack dump
	"runtime.",   // a stack frame or a runtime error type
	"github.com/",
	"apierrors_test", // the package of the Go types below
	"canaryInternalDatabaseFailure",
	"canaryLockedError",
	"canaryStatusError",
	"canaryPatientForm",
	"canaryContact",
	"canaryListQuery",
	"canaryKeyedForm",
	"canaryCrossForm",
	"canaryHeaders",
	"canaryForeignForm",
	"canaryPanicValue",
	"GoFld",      // every Go field name of the bound structs ends so
	"*echo.",     // Echo's types
	"echo.HTTP",  // Echo's types
	"strconv.",   // Echo's bind messages name strconv functions
	"encoding/",  // encoding/json and encoding/xml
	"reflect.",   // type names in messages
	"validator.", // validator's types
	"Key: '",     // validator's own Error(), which names Go types
}

// canaryInternalDatabaseFailure is an error type whose name must never
// appear in a response.
type canaryInternalDatabaseFailure struct{ query string }

func (e *canaryInternalDatabaseFailure) Error() string {
	return "pq: relation " + e.query + " does not exist"
}

// canaryStatusError carries its status code, as Echo v5's HTTPStatusCoder.
type canaryStatusError struct {
	code int
	msg  string
}

func (e *canaryStatusError) Error() string   { return e.msg }
func (e *canaryStatusError) StatusCode() int { return e.code }

// canaryLockedError is matched by an As rule.
type canaryLockedError struct{ holder string }

func (e *canaryLockedError) Error() string { return "record locked by " + e.holder }

// canaryPanicValue is a custom panic value.
type canaryPanicValue struct {
	Query  string
	Reason string
}

var (
	errCanaryPatientNotFound = errors.New("patient not found")
	errCanaryDuplicateEmail  = errors.New("duplicate email")
)

const canaryPublicDetail = "That email address is already registered."

func canaryRules() []middleware.Rule {
	return []middleware.Rule{
		middleware.Is(errCanaryPatientNotFound, status.NotFound),
		middleware.Is(errCanaryDuplicateEmail, status.Conflict).WithDetail(canaryPublicDetail),
		middleware.As[*canaryLockedError](status.Locked),
	}
}

// canaryContact and canaryPatientForm are bound from JSON, form and XML
// bodies and validated. Their Go field names end in GoFld, so that a Go
// name in a response is caught.
type canaryContact struct {
	PhoneGoFld string `json:"phone" validate:"required,e164"`
}

type canaryPatientForm struct {
	EmailGoFld    string            `json:"email" form:"email" xml:"email" validate:"omitempty,email"`
	NameGoFld     string            `json:"name" form:"name" xml:"name" validate:"omitempty,max=8"`
	CodeGoFld     string            `json:"code" validate:"omitempty,len=4"`
	KindGoFld     string            `json:"kind" validate:"omitempty,oneof=adult child"`
	IDGoFld       string            `json:"id" validate:"omitempty,uuid"`
	SiteGoFld     string            `json:"site" validate:"omitempty,url"`
	NickGoFld     string            `json:"nick" validate:"omitempty,alpha"`
	PrefixGoFld   string            `json:"ref" validate:"omitempty,startswith=vh-"`
	AgeGoFld      int               `json:"age" form:"age" xml:"age" validate:"gte=0,lte=150"`
	ContactsGoFld []canaryContact   `json:"contacts" validate:"omitempty,dive"`
	LabelsGoFld   map[string]string `json:"labels" validate:"omitempty,dive,max=5"`
	TagsGoFld     []string          `json:"tags" validate:"omitempty,dive,alpha"`
}

// canaryKeyedForm validates map keys: a failed key is itself the
// rejected value.
type canaryKeyedForm struct {
	CodesGoFld map[string]string `json:"codes" validate:"dive,keys,max=3,endkeys"`
}

// canaryCrossForm has cross-field rules, whose parameter names another
// field, and a time, whose parse error quotes the input.
type canaryCrossForm struct {
	PasswordGoFld string    `json:"password"`
	ConfirmGoFld  string    `json:"confirm" validate:"omitempty,eqfield=PasswordGoFld"`
	StartGoFld    int       `json:"start"`
	EndGoFld      int       `json:"end" validate:"omitempty,gtfield=StartGoFld"`
	BornGoFld     time.Time `json:"born"`
}

type canaryListQuery struct {
	LimitGoFld int    `query:"limit" validate:"omitempty,min=1,max=100"`
	SortGoFld  string `query:"sort" validate:"omitempty,oneof=asc desc"`
	QGoFld     string `query:"q" validate:"omitempty,max=8"`
}

type canaryHeaders struct {
	CountGoFld int `header:"X-Count"`
}

// canaryForeignForm is validated by a validator other than the library's,
// which names fields by their Go names: its field names may appear, its
// type name may not.
type canaryForeignForm struct {
	Email string `validate:"email"`
	Code  string `validate:"len=4"`
}

// canaryRequest is what a case sends besides the negotiation headers.
type canaryRequest struct {
	method      string
	query       string // raw query, without "?"
	contentType string
	body        string
	header      http.Header
}

type canaryCase struct {
	name   string
	row    string // the row of the mapping table the case exercises
	status int    // the HTTP status the case must get
	// reach says that the secret must be found in the error the library
	// handles (checked in OnError): the case really planted it. Cases whose
	// secret is only in the request cannot reach it.
	reach bool
	// request builds the request; nil means a GET without a body.
	request func(secret string) canaryRequest
	// handler fails with the secret; it returns the error, or panics.
	handler func(c echo.Context, secret string) error
	// routerOnly marks a case without a handler: the router's own error,
	// which travels through the middleware only.
	routerOnly bool
}

func canaryBind(c echo.Context, v any) error {
	if err := c.Bind(v); err != nil {
		return err
	}
	return c.Validate(v)
}

func canaryJSONBody(body string) func(string) canaryRequest {
	return func(secret string) canaryRequest {
		return canaryRequest{method: http.MethodPost, contentType: "application/json", body: strings.ReplaceAll(body, "SECRET", secret)}
	}
}

// canaryCases covers every row of the mapping table, each with the secret
// in the places an internal error or a rejected value can hide.
func canaryCases() []canaryCase {
	plain := func(secret string) error { return errors.New(secret) }
	var cases []canaryCase
	add := func(c canaryCase) { cases = append(cases, c) }

	// Row 1: *problem.Problem; its cause is never encoded.
	for _, code := range []status.Code{status.NotFound, status.Conflict, status.InternalServerError, status.ServiceUnavailable} {
		add(canaryCase{name: fmt.Sprintf("problem %d with cause", code), row: "1 problem", status: int(code), reach: true,
			handler: func(c echo.Context, s string) error { return problem.New(code).WithCause(plain(s)) }})
	}
	add(canaryCase{name: "problem with public detail and typed cause", row: "1 problem", status: 409, reach: true,
		handler: func(c echo.Context, s string) error {
			return problem.New(status.Conflict).WithDetail("The appointment overlaps another.").
				WithCause(fmt.Errorf("insert %s: %w", s, &canaryInternalDatabaseFailure{query: s}))
		}})
	add(canaryCase{name: "problem wrapped with secret", row: "1 problem", status: 403, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("authorize %s: %w", s, problem.New(status.Forbidden))
		}})

	// Row 2: validation. Rejected values are the secret.
	add(canaryCase{name: "validation of JSON body with secret values", row: "2 validation", status: 422, reach: true,
		request: canaryJSONBody(`{"email":"SECRET","name":"SECRET","code":"SECRET","kind":"SECRET","id":"SECRET",` +
			`"site":"SECRET","nick":"SECRET","ref":"SECRET","age":151,"contacts":[{"phone":"SECRET"}],` +
			`"labels":{"note":"SECRET"},"tags":["SECRET"]}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "validation wrapped with secret", row: "2 validation", status: 422, reach: true,
		request: canaryJSONBody(`{"email":"SECRET"}`),
		handler: func(c echo.Context, s string) error {
			if err := canaryBind(c, &canaryPatientForm{}); err != nil {
				return fmt.Errorf("signup %s: %w", s, err)
			}
			return nil
		}})
	add(canaryCase{name: "validation of query parameters with secret values", row: "2 validation", status: 422, reach: true,
		request: func(s string) canaryRequest { return canaryRequest{query: "limit=5&sort=" + s + "&q=" + s} },
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryListQuery{}) }})
	add(canaryCase{name: "validation of map keys with secret keys", row: "2 validation", status: 422, reach: true,
		request: canaryJSONBody(`{"codes":{"SECRET":"x"}}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryKeyedForm{}) }})
	add(canaryCase{name: "validation with cross-field rules", row: "2 validation", status: 422, reach: true,
		request: canaryJSONBody(`{"password":"p","confirm":"SECRET","start":5,"end":1}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryCrossForm{}) }})
	add(canaryCase{name: "foreign validator errors", row: "2 validation", status: 422, reach: true,
		handler: func(c echo.Context, s string) error {
			err := validator.New().Struct(&canaryForeignForm{Email: s, Code: s})
			return fmt.Errorf("validate %s: %w", s, err)
		}})
	add(canaryCase{name: "invalid validation wrapped with secret", row: "2 validation", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("validate %s: %w", s, c.Validate(nil))
		}})

	// Row 3: the service's rules.
	add(canaryCase{name: "Is rule, secret in wrapping message", row: "3 rules", status: 404, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("select patient %s: %w", s, errCanaryPatientNotFound)
		}})
	add(canaryCase{name: "Is rule with detail, secret in wrapping message", row: "3 rules", status: 409, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("insert %s: %w", s, errCanaryDuplicateEmail)
		}})
	add(canaryCase{name: "Is rule through errors.Join", row: "3 rules", status: 404, reach: true,
		handler: func(c echo.Context, s string) error {
			return errors.Join(plain(s), &canaryInternalDatabaseFailure{query: s}, errCanaryPatientNotFound)
		}})
	add(canaryCase{name: "As rule, secret in the matched error", row: "3 rules", status: 423, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("update %s: %w", s, &canaryLockedError{holder: s})
		}})

	// Row 4: StatusCoder.
	for _, tc := range []struct{ code, want int }{{404, 404}, {409, 409}, {503, 503}, {418, 400}, {0, 500}} {
		add(canaryCase{name: fmt.Sprintf("StatusCoder %d", tc.code), row: "4 StatusCoder", status: tc.want, reach: true,
			handler: func(c echo.Context, s string) error {
				return &canaryStatusError{code: tc.code, msg: "upstream said " + s}
			}})
	}

	// Row 5: *echo.HTTPError and *echo.BindingError.
	for _, code := range []int{500, 502, 503, 504} {
		add(canaryCase{name: fmt.Sprintf("HTTPError %d message", code), row: "5 echo", status: code, reach: true,
			handler: func(c echo.Context, s string) error {
				return echo.NewHTTPError(code, "remote http://10.0.0.7/"+s+" unreachable")
			}})
		add(canaryCase{name: fmt.Sprintf("HTTPError %d error message", code), row: "5 echo", status: code, reach: true,
			handler: func(c echo.Context, s string) error { return echo.NewHTTPError(code, plain(s)) }})
	}
	for _, code := range []int{400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 502, 503, 504} {
		add(canaryCase{name: fmt.Sprintf("HTTPError %d internal", code), row: "5 echo", status: code, reach: true,
			handler: func(c echo.Context, s string) error {
				return echo.NewHTTPError(code).WithInternal(fmt.Errorf("dial %s: %w", s, &canaryInternalDatabaseFailure{query: s}))
			}})
	}
	add(canaryCase{name: "HTTPError 404 with an error as message", row: "5 echo", status: 404, reach: true,
		handler: func(c echo.Context, s string) error { return echo.NewHTTPError(404, plain(s)) }})
	add(canaryCase{name: "HTTPError 500 wrapping HTTPError 502", row: "5 echo", status: 502, reach: true,
		handler: func(c echo.Context, s string) error {
			return echo.NewHTTPError(500, s).WithInternal(echo.NewHTTPError(502, s).WithInternal(plain(s)))
		}})
	add(canaryCase{name: "HTTPError wrapped with secret", row: "5 echo", status: 404, reach: true,
		handler: func(c echo.Context, s string) error { return fmt.Errorf("route %s: %w", s, echo.ErrNotFound) }})
	add(canaryCase{name: "BindingError with secret values, message and internal", row: "5 echo", status: 400, reach: true,
		handler: func(c echo.Context, s string) error {
			return echo.NewBindingError("limit", []string{s}, "failed to bind "+s, plain(s))
		}})
	add(canaryCase{name: "BindingError from ValueBinder", row: "5 echo", status: 400, reach: true,
		request: func(s string) canaryRequest { return canaryRequest{query: "limit=" + s} },
		handler: func(c echo.Context, s string) error {
			var n int
			return echo.QueryParamsBinder(c).Int("limit", &n).BindError()
		}})
	add(canaryCase{name: "bind: JSON field of the wrong type", row: "5 echo", status: 400,
		request: canaryJSONBody(`{"age":"SECRET"}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: JSON nested field of the wrong type", row: "5 echo", status: 400,
		request: canaryJSONBody(`{"contacts":[{"phone":{"SECRET":"SECRET"}}]}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: JSON array for an object", row: "5 echo", status: 400,
		request: canaryJSONBody(`["SECRET"]`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: JSON time of the wrong form", row: "5 echo", status: 400, reach: true,
		request: canaryJSONBody(`{"born":"SECRET"}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryCrossForm{}) }})
	add(canaryCase{name: "bind: malformed JSON, bare word", row: "5 echo", status: 400,
		request: canaryJSONBody(`{"email": SECRET}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: malformed JSON, truncated", row: "5 echo", status: 400,
		request: canaryJSONBody(`{"email":"SECRET`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: malformed JSON, bad escape", row: "5 echo", status: 400,
		request: canaryJSONBody(`{"email":"\SECRET"}`),
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: XML field of the wrong type", row: "5 echo", status: 400, reach: true,
		request: func(s string) canaryRequest {
			return canaryRequest{method: http.MethodPost, contentType: "application/xml", body: "<p><age>" + s + "</age></p>"}
		},
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: malformed XML", row: "5 echo", status: 400,
		request: func(s string) canaryRequest {
			return canaryRequest{method: http.MethodPost, contentType: "application/xml", body: "<p><name>" + s + "</p>"}
		},
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: form field of the wrong type", row: "5 echo", status: 400, reach: true,
		request: func(s string) canaryRequest {
			return canaryRequest{method: http.MethodPost, contentType: "application/x-www-form-urlencoded", body: "name=x&age=" + s}
		},
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: query parameter of the wrong type", row: "5 echo", status: 400, reach: true,
		request: func(s string) canaryRequest { return canaryRequest{query: "limit=" + s} },
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryListQuery{}) }})
	add(canaryCase{name: "bind: header of the wrong type", row: "5 echo", status: 400, reach: true,
		request: func(s string) canaryRequest { return canaryRequest{header: http.Header{"X-Count": {s}}} },
		handler: func(c echo.Context, s string) error {
			return (&echo.DefaultBinder{}).BindHeaders(c, &canaryHeaders{})
		}})
	add(canaryCase{name: "bind: unsupported media type", row: "5 echo", status: 415,
		request: func(s string) canaryRequest {
			return canaryRequest{method: http.MethodPost, contentType: "application/x-" + s, body: s}
		},
		handler: func(c echo.Context, s string) error { return canaryBind(c, &canaryPatientForm{}) }})
	add(canaryCase{name: "bind: body over a MaxBytesReader", row: "5 echo", status: 413,
		request: canaryJSONBody(`{"email":"SECRET","name":"SECRET"}`),
		handler: func(c echo.Context, s string) error {
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, 16)
			return canaryBind(c, &canaryPatientForm{})
		}})
	add(canaryCase{name: "router 404 with secret in the query", row: "5 echo", status: 404, routerOnly: true,
		request: func(s string) canaryRequest { return canaryRequest{query: "token=" + s} }})

	// Row 6: the standard library.
	add(canaryCase{name: "deadline wrapped with secret", row: "6 stdlib", status: 503, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("query %s: %w", s, context.DeadlineExceeded)
		}})
	add(canaryCase{name: "MaxBytesError wrapped with secret", row: "6 stdlib", status: 413, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("read %s: %w", s, &http.MaxBytesError{Limit: 1024})
		}})
	add(canaryCase{name: "json.SyntaxError wrapped with secret", row: "6 stdlib", status: 400, reach: true,
		handler: func(c echo.Context, s string) error {
			var v any
			return fmt.Errorf("decode %s: %w", s, json.Unmarshal([]byte(`{"a":`+s+`}`), &v))
		}})
	add(canaryCase{name: "json.UnmarshalTypeError wrapped with secret", row: "6 stdlib", status: 400, reach: true,
		handler: func(c echo.Context, s string) error {
			var v struct {
				AgeGoFld int `json:"age"`
			}
			return fmt.Errorf("decode %s: %w", s, json.Unmarshal([]byte(`{"age":"`+s+`"}`), &v))
		}})
	add(canaryCase{name: "gzip header error wrapped with secret", row: "6 stdlib", status: 400, reach: true,
		handler: func(c echo.Context, s string) error {
			_, err := gzip.NewReader(strings.NewReader(s + s))
			return fmt.Errorf("inflate %s: %w", s, err)
		}})
	add(canaryCase{name: "flate corrupt input wrapped with secret", row: "6 stdlib", status: 400, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("inflate %s: %w", s, flate.CorruptInputError(7))
		}})
	add(canaryCase{name: "context.Canceled while the client waits", row: "6 stdlib", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("query %s: %w", s, context.Canceled)
		}})

	// Row 7: everything else, and panics.
	add(canaryCase{name: "plain error", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error { return plain(s) }})
	add(canaryCase{name: "wrapped cause", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("query %s: %w", s, errors.New("connection reset"))
		}})
	add(canaryCase{name: "errors.Join", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			return errors.Join(errors.New("first"), plain(s), fmt.Errorf("third %s", s))
		}})
	add(canaryCase{name: "type-name canary", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error { return &canaryInternalDatabaseFailure{query: s} }})
	add(canaryCase{name: "type-name canary wrapped", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			return fmt.Errorf("repo: %w", &canaryInternalDatabaseFailure{query: s})
		}})
	add(canaryCase{name: "panic with a string", row: "7 panic", status: 500, reach: true,
		handler: func(c echo.Context, s string) error { panic("index out of range: " + s) }})
	add(canaryCase{name: "panic with an error", row: "7 panic", status: 500, reach: true,
		handler: func(c echo.Context, s string) error { panic(fmt.Errorf("nil map %s: %w", s, plain(s))) }})
	add(canaryCase{name: "panic with a custom struct", row: "7 panic", status: 500, reach: true,
		handler: func(c echo.Context, s string) error { panic(canaryPanicValue{Query: s, Reason: "bad state"}) }})
	add(canaryCase{name: "panic with a typed error", row: "7 panic", status: 500, reach: true,
		handler: func(c echo.Context, s string) error { panic(&canaryInternalDatabaseFailure{query: s}) }})
	add(canaryCase{name: "runtime panic", row: "7 panic", status: 500,
		handler: func(c echo.Context, s string) error {
			var m map[string]int
			canaryIncrement(m, s) // assignment to entry in nil map
			return nil
		}})
	add(canaryCase{name: "panic after setting stale headers", row: "7 panic", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			canarySetStaleHeaders(c, s)
			panic("export failed: " + s)
		}})
	add(canaryCase{name: "error after setting stale headers", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			canarySetStaleHeaders(c, s)
			return plain(s)
		}})
	// Content-Encoding and Content-Location describe the representation
	// the handler meant to send, as much as ETag and Location do.
	add(canaryCase{name: "panic after setting Content-Encoding", row: "7 panic", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			c.Response().Header().Set("Content-Type", "text/csv")
			c.Response().Header().Set("Content-Encoding", "gzip")
			panic("export failed: " + s)
		}})
	add(canaryCase{name: "error after setting Content-Location", row: "7 default", status: 500, reach: true,
		handler: func(c echo.Context, s string) error {
			c.Response().Header().Set("Content-Location", "/exports/"+s+".csv")
			return fmt.Errorf("export %s: %w", s, io.ErrUnexpectedEOF)
		}})
	return cases
}

// canarySetStaleHeaders sets the headers of the representation a handler
// meant to send, before it fails: all of them describe a response that is
// not sent, and the secret is in each.
func canarySetStaleHeaders(c echo.Context, s string) {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; name="+s)
	h.Set("Content-Length", "123456")
	h.Set("Content-Disposition", `attachment; filename="`+s+`.csv"`)
	h.Set("Content-Range", "bytes 0-99/"+fmt.Sprint(len(s)*1000))
	h.Set("ETag", `"`+s+`"`)
	h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("Location", "/exports/"+s)
}

func canarySecret(t testing.TB) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	// The prefix makes sure the secret has letters and digits, so that
	// validation rules such as alpha and uuid reject it.
	return "c4n4ry" + hex.EncodeToString(b[:])
}

// canaryHolds reports whether the secret is in the error: in its text, in
// a rejected value a validator kept, or in a binding error's values.
func canaryHolds(err error, secret string) bool {
	if strings.Contains(fmt.Sprint(err), secret) {
		return true
	}
	var verrs validator.ValidationErrors
	if errors.As(err, &verrs) {
		for _, fe := range verrs {
			if strings.Contains(fmt.Sprint(fe.Value()), secret) {
				return true
			}
		}
	}
	var be *echo.BindingError
	if errors.As(err, &be) {
		return strings.Contains(strings.Join(be.Values, " "), secret)
	}
	return false
}

// canaryServer serves every case on two routes: /r/<i> returns the error
// through the middleware chain, /e/<i> sends it with c.Error and returns
// nil, and recovers panics with Echo's Recover, which calls c.Error.
type canaryServer struct {
	*httptest.Server
	reached sync.Map // secret → true, from OnError
}

func newCanaryServer(t *testing.T, cases []canaryCase, expose bool) *canaryServer {
	t.Helper()
	cs := &canaryServer{}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	middleware.Mount(e, middleware.Config{
		TypeBase: canaryTypeBase,
		Rules:    canaryRules(),
		// An enabled logger, so that panics' stacks are taken: they must
		// still never reach a response.
		Logger:               slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ExposeInternalErrors: expose,
		OnError: func(c echo.Context, p *problem.Problem, err error) {
			secret := c.Request().Header.Get(canarySecretHeader)
			if secret != "" && canaryHolds(err, secret) {
				cs.reached.Store(secret, true)
			}
		},
	})
	e.Validator = middleware.NewValidator()
	recover := echomw.RecoverWithConfig(echomw.RecoverConfig{DisablePrintStack: true})
	for i, tc := range cases {
		if tc.routerOnly {
			continue
		}
		h := tc.handler
		e.Any(fmt.Sprintf("/r/%d", i), func(c echo.Context) error {
			return h(c, c.Request().Header.Get(canarySecretHeader))
		})
		e.Any(fmt.Sprintf("/e/%d", i), func(c echo.Context) error {
			if err := h(c, c.Request().Header.Get(canarySecretHeader)); err != nil {
				c.Error(err)
			}
			return nil
		}, recover)
	}
	cs.Server = httptest.NewServer(e)
	t.Cleanup(cs.Close)
	return cs
}

// canaryCombo is one way of asking: format, language and error route.
type canaryCombo struct {
	accept, mediaType string
	lang              string
	route             string // "r" returned, "e" c.Error, "router"
}

func (c canaryCombo) String() string {
	return fmt.Sprintf("%s/%s/%s", c.route, strings.TrimPrefix(c.mediaType, "application/problem+"), c.lang)
}

// canaryStats counts what the suite checked.
type canaryStats struct {
	responses atomic.Int64
	checks    atomic.Int64
}

func TestCanaryNoSecretLeaks(t *testing.T) {
	cases := canaryCases()
	srv := newCanaryServer(t, cases, false)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)

	rows := map[string]int{}
	var stats canaryStats
	for i, tc := range cases {
		rows[strings.Fields(tc.row)[0]]++
		routes := []string{"r", "e"}
		if tc.routerOnly {
			routes = []string{"router"}
		}
		t.Run(tc.name, func(t *testing.T) {
			for _, route := range routes {
				for _, mt := range []string{problem.MediaType, problem.MediaTypeXML} {
					for _, lang := range []string{"en", "fr", "ja"} {
						combo := canaryCombo{accept: mt, mediaType: mt, lang: lang, route: route}
						secret := canarySecret(t)
						resp, body := canaryDo(t, client, srv.URL, i, tc, combo, secret)
						canaryCheck(t, &stats, combo, tc.status, resp, body, secret)
						if tc.reach {
							stats.checks.Add(1)
							if _, ok := srv.reached.Load(secret); !ok {
								t.Errorf("%v: the secret never reached the error handler: the case plants nothing", combo)
							}
						}
					}
				}
			}
		})
	}
	for _, row := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		if rows[row] == 0 {
			t.Errorf("no case covers row %s of the mapping table", row)
		}
	}
	t.Logf("%d cases, %d responses, %d checks", len(cases), stats.responses.Load(), stats.checks.Load())
}

// canaryDo sends the case's request for one combination and reads the
// whole response.
func canaryDo(t *testing.T, client *http.Client, base string, i int, tc canaryCase, combo canaryCombo, secret string) (*http.Response, []byte) {
	t.Helper()
	var r canaryRequest
	if tc.request != nil {
		r = tc.request(secret)
	}
	if r.method == "" {
		r.method = http.MethodGet
	}
	path := fmt.Sprintf("/%s/%d", combo.route, i)
	if tc.routerOnly {
		path = "/no/such/route"
	}
	target := base + path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	req.Header.Set("Accept", combo.accept)
	req.Header.Set("Accept-Language", combo.lang)
	req.Header.Set(canarySecretHeader, secret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%v: %v", combo, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%v: reading the body: %v", combo, err)
	}
	return resp, b
}

// canaryLeaks lists what of the secret and the forbidden marks text holds.
func canaryLeaks(text, secret string) []string {
	var found []string
	if secret != "" && strings.Contains(text, secret) {
		found = append(found, "the secret")
	}
	text = strings.ReplaceAll(text, canaryTypeBase, "")
	for _, mark := range canaryForbidden {
		if strings.Contains(text, mark) {
			found = append(found, fmt.Sprintf("%q", mark))
		}
	}
	return found
}

// canaryCheck asserts that one response leaks nothing and is a valid
// problem with the status the case expects.
func canaryCheck(t *testing.T, stats *canaryStats, combo canaryCombo, want int, resp *http.Response, body []byte, secret string) {
	t.Helper()
	stats.responses.Add(1)
	check := func(ok bool, format string, args ...any) {
		t.Helper()
		stats.checks.Add(1)
		if !ok {
			t.Errorf("%v: "+format, append([]any{combo}, args...)...)
		}
	}

	// Nothing leaks, in any header or in the body.
	for k, vs := range resp.Header {
		for _, v := range append([]string{k}, vs...) {
			leaks := canaryLeaks(v, secret)
			check(len(leaks) == 0, "header %s: %q leaks %s", k, v, strings.Join(leaks, ", "))
		}
	}
	leaks := canaryLeaks(string(body), secret)
	check(len(leaks) == 0, "body leaks %s: %s", strings.Join(leaks, ", "), body)

	// The response is the problem the case calls for.
	check(resp.StatusCode == want, "HTTP status %d, want %d: %s", resp.StatusCode, want, body)
	code, documented := status.Lookup(resp.StatusCode)
	check(documented && code.IsError(), "HTTP status %d is not a documented error code", resp.StatusCode)
	check(resp.Header.Get("Content-Type") == combo.mediaType, "Content-Type %q, want %q", resp.Header.Get("Content-Type"), combo.mediaType)
	check(resp.Header.Get("Content-Language") == combo.lang, "Content-Language %q, want %q", resp.Header.Get("Content-Language"), combo.lang)
	ce := resp.Header.Get("Content-Encoding")
	check(ce == "" || ce == "identity", "Content-Encoding %q on a problem body that is not encoded: clients cannot decode it", ce)
	p, err := problem.Parse(&http.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body))})
	check(err == nil, "not a problem: %v: %s", err, body)
	if err != nil {
		return
	}
	check(p.Status == resp.StatusCode, "body status %d, HTTP status %d", p.Status, resp.StatusCode)
	check(p.Title != "", "no title: %s", body)
	check(p.Type == canaryTypeBase+code.Slug(), "type %q, want %q", p.Type, canaryTypeBase+code.Slug())
	if combo.mediaType == problem.MediaType {
		err := problemtest.ValidateSchema(body)
		check(err == nil, "Appendix A schema rejects %s: %v", body, err)
	}
}

// TestCanaryDetectsExposedInternals proves that the canary can see a
// leak: with ExposeInternalErrors the secret is in the "debug" extension,
// and a panic's stack is there too. Even then, detail never holds it.
func TestCanaryDetectsExposedInternals(t *testing.T) {
	var cases []canaryCase
	for _, tc := range canaryCases() {
		switch tc.name {
		case "plain error", "wrapped cause", "problem 404 with cause", "HTTPError 502 message", "panic with a string":
			cases = append(cases, tc)
		}
	}
	if len(cases) != 5 {
		t.Fatalf("found %d of the 5 cases", len(cases))
	}
	srv := newCanaryServer(t, cases, true)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, route := range []string{"r", "e"} {
				combo := canaryCombo{accept: problem.MediaType, mediaType: problem.MediaType, lang: "en", route: route}
				secret := canarySecret(t)
				resp, body := canaryDo(t, client, srv.URL, i, tc, combo, secret)
				if resp.StatusCode != tc.status {
					t.Errorf("%v: HTTP status %d, want %d", combo, resp.StatusCode, tc.status)
				}
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					t.Fatalf("%v: %v: %s", combo, err, body)
				}
				debug, err := json.Marshal(m["debug"])
				if err != nil || m["debug"] == nil {
					t.Fatalf("%v: no debug extension: %s", combo, body)
				}
				if !strings.Contains(string(debug), secret) {
					t.Errorf("%v: the secret is not in debug %s", combo, debug)
				}
				if leaks := canaryLeaks(string(body), secret); len(leaks) == 0 || leaks[0] != "the secret" {
					t.Errorf("%v: the canary misses the exposed secret in %s", combo, body)
				}
				if detail, _ := m["detail"].(string); strings.Contains(detail, secret) {
					t.Errorf("%v: detail holds the secret even so: %q", combo, detail)
				}
				delete(m, "debug")
				rest, _ := json.Marshal(m)
				if leaks := canaryLeaks(string(rest), secret); len(leaks) != 0 {
					t.Errorf("%v: outside debug, the body leaks %s: %s", combo, strings.Join(leaks, ", "), rest)
				}
				if tc.name == "panic with a string" && route == "r" {
					leaks := strings.Join(canaryLeaks(string(body), secret), " ")
					if !strings.Contains(leaks, `"goroutine "`) || !strings.Contains(leaks, `".go:"`) {
						t.Errorf("%v: the canary misses the exposed stack: found %s in %s", combo, leaks, body)
					}
				}
			}
		})
	}
}

// TestCanaryClientAbort covers the row that writes nothing: a
// context.Canceled from a client that is gone. Nothing, and so no secret,
// may be written, on either route.
func TestCanaryClientAbort(t *testing.T) {
	e := echo.New()
	middleware.Mount(e, middleware.Config{
		TypeBase: canaryTypeBase,
		Rules:    canaryRules(),
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	e.Validator = middleware.NewValidator()
	e.GET("/r", func(c echo.Context) error {
		return fmt.Errorf("query %s: %w", c.Request().Header.Get(canarySecretHeader), c.Request().Context().Err())
	})
	e.GET("/e", func(c echo.Context) error {
		c.Error(fmt.Errorf("query %s: %w", c.Request().Header.Get(canarySecretHeader), c.Request().Context().Err()))
		return nil
	})
	for _, route := range []string{"/r", "/e"} {
		secret := canarySecret(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequest(http.MethodGet, route, nil).WithContext(ctx)
		req.Header.Set(canarySecretHeader, secret)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Errorf("%s: wrote %v %q for a client that is gone", route, w.Header(), w.Body)
		}
	}
}

// canaryIncrement writes to m, which panics when m is nil: a runtime
// error raised where the checker cannot see it coming.
func canaryIncrement(m map[string]int, key string) { m[key]++ }
