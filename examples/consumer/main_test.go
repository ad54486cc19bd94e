package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/virtuheal/apierrors/examples/clinic/api"
	"github.com/virtuheal/apierrors/examples/clinic/patient"
)

// TestAgainstClinic runs the consumer against the clinic's real handlers
// and checks the branch it takes for each answer.
func TestAgainstClinic(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Options{
		Rate: 100, Timeout: 200 * time.Millisecond, ProblemBase: "/problems/",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Store: patient.NewStore(),
	}))
	defer srv.Close()

	var out bytes.Buffer
	if err := run(context.Background(), srv.URL, "staff-token", &out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"register a patient with bad fields → fix these fields and resend:",
		"    #/name: name is a required field",
		"    #/email: email must be a valid email address",
		"    #/birth_date: birth_date does not match the 2006-01-02 format",
		"    #/contacts/0/phone: phone must be a valid E.164 formatted phone number",
		"register Ada again → conflict: A patient with this email already exists. Use the existing patient instead.",
		"register Grace → ok",
		"fetch a patient who does not exist → not found: nothing to retry",
		"list with a limit out of range → fix these fields and resend:",
		"    parameter limit: limit must be 100 or less",
		"list without a token → credentials: Unauthorized (Send a valid token in an Authorization: Bearer header.)",
		"fetch a slow report → busy: retry in 30s",
		"hit a server bug → server error: report request ",
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != len(want) {
		t.Fatalf("output:\n%s", out.String())
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d = %q\nwant      %q", i, got[i], want[i])
		}
	}
	if id := strings.TrimPrefix(got[len(got)-1], want[len(want)-1]); len(id) < 8 {
		t.Errorf("no request id to report: %q", got[len(got)-1])
	}
}

func TestTransportFailure(t *testing.T) {
	srv := httptest.NewServer(nil)
	srv.Close() // nothing listens here now
	err := run(context.Background(), srv.URL, "staff-token", io.Discard)
	if err == nil {
		t.Fatal("no error without a server")
	}
}
