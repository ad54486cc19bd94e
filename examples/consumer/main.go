// Command consumer is a small client of the clinic example. It shows how
// an API consumer turns problem responses into Go errors with
// problem.Parse, and branches on their type, status and "errors" list.
//
// Start the clinic, then run:
//
//	go run ./examples/consumer -base http://localhost:8080
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/virtuheal/apierrors/problem"
)

func main() {
	base := flag.String("base", "http://localhost:8080", "the clinic's base URL")
	token := flag.String("token", "staff-token", "bearer token")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, *base, *token, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

// APIError is a problem the clinic answered with, plus what only the
// response's headers say.
type APIError struct {
	*problem.Problem
	RetryAfter time.Duration // from Retry-After on 429 and 503
}

// Unwrap lets errors.As reach the problem itself.
func (e *APIError) Unwrap() error { return e.Problem }

// Client calls the clinic.
type Client struct {
	Base  *url.URL
	Token string
	HTTP  *http.Client
}

// Do sends a request with an optional JSON body and decodes a successful
// JSON response into out. A problem response becomes an *APIError;
// anything else that is not a success is a plain error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base.ResolveReference(ref).String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		p, err := problem.Parse(resp)
		if err != nil {
			return fmt.Errorf("%s %s: %s: %w", method, path, resp.Status, err)
		}
		// A relative type is resolved against the request URL (RFC 9457
		// §3.1.1), so the type compares as the absolute URI it stands for.
		if ref, err := url.Parse(p.Type); err == nil {
			p.Type = req.URL.ResolveReference(ref).String()
		}
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &APIError{Problem: p, RetryAfter: time.Duration(secs) * time.Second}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

// typeURI is the absolute type URI of one of the clinic's problems.
func (c *Client) typeURI(slug string) string {
	return c.Base.ResolveReference(&url.URL{Path: "/problems/" + slug}).String()
}

// explain decides what a consumer does about an error: the branches a
// real client takes, by problem type first, then by status.
func (c *Client) explain(err error) string {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return "transport failure, not an answer from the API: " + err.Error()
	}
	p := apiErr.Problem
	switch {
	case p.Type == c.typeURI("conflict"):
		return "conflict: " + p.Detail + " Use the existing patient instead."
	case p.Type == c.typeURI("unprocessable-entity"):
		s := "fix these fields and resend:"
		for _, fe := range p.Errors() {
			where := fe.Pointer
			if fe.Parameter != "" {
				where = "parameter " + fe.Parameter
			}
			s += fmt.Sprintf("\n    %s: %s", where, fe.Detail)
		}
		return s
	case p.Status == http.StatusNotFound:
		return "not found: nothing to retry"
	case p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
		return "credentials: " + p.Title + " (" + p.Detail + ")"
	case p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable:
		return fmt.Sprintf("busy: retry in %s", apiErr.RetryAfter)
	case p.Status >= 500:
		id, _ := p.Extensions["request_id"].(string)
		return "server error: report request " + id
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
}

// run walks through the answers a client meets and prints how it handles
// each.
func run(ctx context.Context, base, token string, out io.Writer) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	c := &Client{Base: u, Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
	anonymous := &Client{Base: u, HTTP: c.HTTP}

	type contact struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	}
	type newPatient struct {
		Name      string    `json:"name"`
		Email     string    `json:"email"`
		BirthDate string    `json:"birth_date"`
		Contacts  []contact `json:"contacts,omitempty"`
	}
	var created struct {
		ID string `json:"id"`
	}
	steps := []struct {
		what string
		call func() error
	}{
		{"register a patient with bad fields", func() error {
			return c.Do(ctx, "POST", "/patients", newPatient{Email: "ada@", BirthDate: "1815-13-10",
				Contacts: []contact{{Name: "Byron", Phone: "555-0100"}}}, nil)
		}},
		{"register Ada again", func() error {
			return c.Do(ctx, "POST", "/patients", newPatient{Name: "Ada Lovelace", Email: "ada@example.com", BirthDate: "1815-12-10"}, nil)
		}},
		{"register Grace", func() error {
			return c.Do(ctx, "POST", "/patients", newPatient{Name: "Grace Hopper", Email: "grace@example.com", BirthDate: "1906-12-09"}, &created)
		}},
		{"fetch a patient who does not exist", func() error {
			return c.Do(ctx, "GET", "/patients/p-999", nil, nil)
		}},
		{"list with a limit out of range", func() error {
			return c.Do(ctx, "GET", "/patients?limit=500", nil, nil)
		}},
		{"list without a token", func() error {
			return anonymous.Do(ctx, "GET", "/patients", nil, nil)
		}},
		{"fetch a slow report", func() error {
			return c.Do(ctx, "GET", "/reports/slow", nil, nil)
		}},
		{"hit a server bug", func() error {
			return c.Do(ctx, "GET", "/debug/error", nil, nil)
		}},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			fmt.Fprintf(out, "%s → %s\n", s.what, c.explain(err))
			continue
		}
		fmt.Fprintf(out, "%s → ok\n", s.what)
	}
	if created.ID == "" {
		return errors.New("registering Grace failed")
	}
	return nil
}
