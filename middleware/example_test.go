package middleware_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// Domain errors live in the domain; one table at the edge maps them.
var (
	ErrPatientNotFound = errors.New("patient not found")
	ErrDuplicateEmail  = errors.New("email already registered")
)

type LockedError struct{ ID string }

func (e *LockedError) Error() string { return "patient " + e.ID + " is locked" }

func ExampleMount() {
	slog.SetDefault(slog.New(slog.DiscardHandler)) // keep the example's output to the response

	e := echo.New()
	middleware.Mount(e, middleware.Config{
		TypeBase: "/problems/",
		Rules: []middleware.Rule{
			middleware.Is(ErrPatientNotFound, status.NotFound),
			middleware.Is(ErrDuplicateEmail, status.Conflict).WithDetail("A patient with this email already exists."),
			middleware.As[*LockedError](status.Locked),
		},
	})
	e.GET("/patients/:id", func(c echo.Context) error {
		return fmt.Errorf("select %s: %w", c.Param("id"), ErrPatientNotFound) // the wrapping text is never sent
	})

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/patients/p-9", nil))
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println(w.Body)
	// Output:
	// 404 application/problem+json
	// {"type":"/problems/not-found","title":"Not Found","status":404,"detail":"The server can not find the requested resource.","instance":"/patients/p-9"}
}

func ExampleNewValidator() {
	slog.SetDefault(slog.New(slog.DiscardHandler))

	type contact struct {
		Phone string `json:"phone" validate:"required,e164"`
	}
	type newPatient struct {
		Name     string    `json:"name" validate:"required"`
		Email    string    `json:"email" validate:"required,email"`
		Contacts []contact `json:"contacts" validate:"dive"`
	}

	e := echo.New()
	middleware.Mount(e, middleware.Config{})
	e.Validator = middleware.NewValidator()
	e.POST("/patients", func(c echo.Context) error {
		var p newPatient
		if err := c.Bind(&p); err != nil {
			return err
		}
		return c.Validate(&p)
	})

	r := httptest.NewRequest("POST", "/patients", strings.NewReader(`{"email":"ada@","contacts":[{"phone":"12"}]}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)

	p, _ := problem.Parse(w.Result())
	fmt.Println(p.Status, p.Title)
	for _, fe := range p.Errors() {
		fmt.Printf("%-20s %s\n", fe.Pointer, fe.Detail)
	}
	// Output:
	// 422 Unprocessable Entity
	// #/name               name is a required field
	// #/email              email must be a valid email address
	// #/contacts/0/phone   phone must be a valid E.164 formatted phone number
}

func ExampleAs() {
	slog.SetDefault(slog.New(slog.DiscardHandler))

	e := echo.New()
	middleware.Mount(e, middleware.Config{Rules: []middleware.Rule{middleware.As[*LockedError](status.Locked)}})
	e.DELETE("/patients/:id", func(c echo.Context) error {
		return &LockedError{ID: c.Param("id")}
	})

	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("DELETE", "/patients/p-1", nil))
	fmt.Println(w.Body)
	// Output:
	// {"type":"about:blank","title":"Locked","status":423,"detail":"The resource that is being accessed is locked.","instance":"/patients/p-1"}
}
