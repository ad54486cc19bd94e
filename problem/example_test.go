package problem_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

var errNoRows = errors.New("sql: no rows in result set")

func ExampleNew() {
	p := problem.New(status.NotFound).
		WithDetail("No patient has the id p-9.").
		WithInstance("/patients/p-9").
		With("patient_id", "p-9").
		WithCause(errNoRows) // logged, never sent

	body, _ := p.MarshalJSON()
	fmt.Println(string(body))
	fmt.Println(errors.Is(p, errNoRows))
	// Output:
	// {"type":"about:blank","title":"Not Found","status":404,"detail":"No patient has the id p-9.","instance":"/patients/p-9","patient_id":"p-9"}
	// true
}

func ExampleWrite() {
	handler := func(w http.ResponseWriter, r *http.Request) {
		p := problem.New(status.Conflict).WithDetail("A patient with this email already exists.")
		if err := problem.Write(w, r, p); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}

	w := httptest.NewRecorder()
	handler(w, httptest.NewRequest("POST", "/patients", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(w.Body)
	// Output:
	// 409 application/problem+json
	// {"type":"about:blank","title":"Conflict","status":409,"detail":"A patient with this email already exists."}
}

func ExampleParse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", problem.MediaType)
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"type":"/problems/unprocessable-entity","title":"Unprocessable Entity","status":422,`+
			`"errors":[{"detail":"email must be a valid email address","pointer":"#/email","rule":"email"}]}`)
	}))
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/patients", "application/json", strings.NewReader(`{"email":"x"}`))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer resp.Body.Close()

	p, err := problem.Parse(resp)
	if err != nil {
		fmt.Println("not a problem:", err)
		return
	}
	fmt.Println(p.Status, p.Type)
	for _, fe := range p.Errors() {
		fmt.Printf("%s: %s\n", fe.Pointer, fe.Detail)
	}
	// Output:
	// 422 /problems/unprocessable-entity
	// #/email: email must be a valid email address
}

func ExampleEncodeErrors() {
	// Encoded once, at start-up or on first use, and sent many times.
	missingName := problem.EncodeErrors([]problem.FieldError{
		{Detail: "name is a required field", Pointer: "#/name", Rule: "required"},
	})

	p := problem.New(status.UnprocessableEntity).
		WithDetail("").
		With(problem.ErrorsKey, missingName)
	body, _ := p.MarshalJSON()
	fmt.Println(string(body))
	fmt.Println(p.Errors()[0].Pointer)
	// Output:
	// {"type":"about:blank","title":"Unprocessable Entity","status":422,"errors":[{"detail":"name is a required field","pointer":"#/name","rule":"required"}]}
	// #/name
}

func ExampleTemplate_AppendJSONMembers() {
	// The members every 429 shares, encoded once.
	tooMany := problem.New(status.TooManyRequests).
		WithType("/problems/too-many-requests").
		WithDetail("Slow down.").
		Template()

	// Each response adds its own, without building a map.
	var buf []byte
	buf, err := tooMany.AppendJSONMembers(buf[:0], "", "/patients",
		problem.Member{Name: "request_id", Value: "r-7"},
		problem.Member{Name: "limit", Value: 100},
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(buf))
	// Output:
	// {"type":"/problems/too-many-requests","title":"Too Many Requests","status":429,"detail":"Slow down.","instance":"/patients","limit":100,"request_id":"r-7"}
}
