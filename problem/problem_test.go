package problem_test

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

func TestNew(t *testing.T) {
	p := problem.New(status.Conflict)
	if p.Status != 409 || p.Title != "Conflict" || p.Type != "" || p.Instance != "" || p.Extensions != nil {
		t.Fatalf("New(Conflict) = %+v", p)
	}
	if p.Detail != status.Conflict.Description() {
		t.Errorf("Detail = %q, want the documented description", p.Detail)
	}
}

func TestWithMethodsCopy(t *testing.T) {
	base := problem.New(status.NotFound)
	cause := errors.New("row missing")
	got := base.WithDetail("patient p-9 does not exist").
		WithType("https://api.virtuheal.com/problems/not-found").
		WithInstance("/patients/p-9").
		With("patient_id", "p-9").
		WithCause(cause)

	if !reflect.DeepEqual(base, problem.New(status.NotFound)) {
		t.Errorf("the receiver changed: %+v", base)
	}
	if got.Detail != "patient p-9 does not exist" || got.Type != "https://api.virtuheal.com/problems/not-found" ||
		got.Instance != "/patients/p-9" || got.Extensions["patient_id"] != "p-9" {
		t.Errorf("got %+v", got)
	}
	if !errors.Is(got, cause) || got.Unwrap() != cause {
		t.Error("the cause is not reachable through Unwrap")
	}
	if d := base.WithDetailf("%d of %d", 3, 4).Detail; d != "3 of 4" {
		t.Errorf("WithDetailf = %q", d)
	}

	withA := got.With("a", 1)
	withB := withA.With("b", 2)
	if _, ok := withA.Extensions["b"]; ok {
		t.Error("With modified the receiver's extensions")
	}
	if len(withB.Extensions) != 3 {
		t.Errorf("extensions = %v", withB.Extensions)
	}
}

func TestWithIgnoresStandardMembers(t *testing.T) {
	p := problem.New(status.BadRequest)
	for _, key := range []string{"type", "title", "status", "detail", "instance"} {
		if q := p.With(key, "x"); len(q.Extensions) != 0 {
			t.Errorf("With(%q) stored an extension", key)
		}
	}
}

func TestErrorsAsThroughWrapping(t *testing.T) {
	p := problem.New(status.Forbidden).WithCause(fs.ErrPermission)
	err := errors.Join(errors.New("context"), p)
	var got *problem.Problem
	if !errors.As(err, &got) || got != p {
		t.Fatal("errors.As does not find the problem")
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Error("errors.Is does not reach the cause")
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		p    *problem.Problem
		want string
	}{
		{problem.New(status.NotFound).WithDetail("no such patient"), "404 Not Found: no such patient"},
		{problem.New(status.InternalServerError).WithDetail("").WithCause(errors.New("db down")), "500 Internal Server Error: db down"},
		{&problem.Problem{Status: 418}, "418"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorsAccessor(t *testing.T) {
	set := []problem.FieldError{{Detail: "required", Pointer: "#/name", Rule: "required"}}
	if got := problem.New(status.UnprocessableEntity).With(problem.ErrorsKey, set).Errors(); len(got) != 1 || got[0] != set[0] {
		t.Errorf("Errors() from a server-side problem = %+v", got)
	}

	var decoded problem.Problem
	body := `{"status":422,"errors":[{"detail":"too big","parameter":"limit","rule":"max","param":"100"},"junk",{"detail":7}]}`
	if err := decoded.UnmarshalJSON([]byte(body)); err != nil {
		t.Fatal(err)
	}
	got := decoded.Errors()
	want := []problem.FieldError{{Detail: "too big", Parameter: "limit", Rule: "max", RuleParam: "100"}, {}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Errors() from JSON = %+v, want %+v", got, want)
	}

	if got := problem.New(status.BadRequest).With("errors", "not a list").Errors(); got != nil {
		t.Errorf("Errors() of a string = %+v", got)
	}
	if !strings.Contains(problem.New(status.BadRequest).Error(), "400") {
		t.Error("Error() lacks the status")
	}
}
