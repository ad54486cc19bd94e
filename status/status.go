// Package status is Virtuheal's documented table of HTTP status codes as
// typed Go code.
//
// Every constant, title and description is generated from codes.md, the
// document Virtuheal publishes for its APIs; a test fails when the two
// disagree. The vocabulary is the document's, not RFC 9110's: 413 is
// "Request Entity Too Large" and 422 is "Unprocessable Entity".
//
// Lookups index a fixed array and allocate nothing.
package status

import "strconv"

//go:generate go run ./internal/gencodes

// Code is an HTTP status code. The constants are the documented codes;
// a Code outside the table has empty Name, Title, Description and Slug.
type Code int

type info struct {
	name        string // HTTP_404_NOT_FOUND
	title       string // Not Found
	slug        string // not-found
	text        string // 404 Not Found
	description string
}

// unknown is the empty info of every code the table lacks.
var unknown info

func (c Code) info() *info {
	if c < minCode || c > maxCode {
		return &unknown
	}
	return &codes[c-minCode]
}

// Name returns the documented identifier, such as "HTTP_404_NOT_FOUND".
func (c Code) Name() string { return c.info().name }

// Title returns the reason phrase of the documented name, such as
// "Not Found". It is the title of an about:blank problem (RFC 9457 §4.2.1).
func (c Code) Title() string { return c.info().title }

// Description returns the documented description verbatim.
func (c Code) Description() string { return c.info().description }

// Slug returns the title in lower-case words joined by hyphens, such as
// "not-found". Problem type URIs end in it.
func (c Code) Slug() string { return c.info().slug }

// String returns the number and title, such as "404 Not Found", or only
// the number for a code the table lacks.
func (c Code) String() string {
	if t := c.info().text; t != "" {
		return t
	}
	return strconv.Itoa(int(c))
}

// Class returns the code's class, from its first digit (RFC 9110 §15).
// It is 0, which is no class, outside 100-599.
func (c Code) Class() Class {
	if c < 100 || c > 599 {
		return 0
	}
	return Class(c / 100)
}

// IsError reports whether c is in the Client Error or Server Error class.
func (c Code) IsError() bool {
	return c.Class() == ClientError || c.Class() == ServerError
}

// Lookup returns the documented code numbered n. It reports false for
// every number the table lacks, such as 418.
func Lookup(n int) (Code, bool) {
	c := Code(n)
	return c, c.Name() != ""
}

// ErrorCode returns the documented error code to send for the number n:
// n itself when the table lists it as a 4xx or 5xx code; its class's x00
// for any other 4xx or 5xx number, as RFC 9110 §15 tells a client to read
// an unrecognised code; and 500 for anything else, since an error response
// must not carry a success or redirect status. ok reports whether n was
// used unchanged.
func ErrorCode(n int) (c Code, ok bool) {
	if c, ok := Lookup(n); ok && c.IsError() {
		return c, true
	}
	if c := Code(n); c.IsError() {
		return c / 100 * 100, false
	}
	return InternalServerError, false
}

// ByName returns the code with the documented identifier name, such as
// "HTTP_404_NOT_FOUND".
func ByName(name string) (Code, bool) {
	c, ok := byName[name]
	return c, ok
}

// All returns every documented code in table order. The slice is the
// caller's to keep.
func All() []Code {
	all := ordered
	return all[:]
}

// Class is a class of status codes: Informational, Successful, Redirection,
// ClientError or ServerError.
type Class int

type classInfo struct {
	heading     string
	description string
}

func (c Class) info() classInfo {
	if c < Informational || c > ServerError {
		return classInfo{}
	}
	return classes[c]
}

// String returns the documented heading, such as "Client Error".
func (c Class) String() string {
	if h := c.info().heading; h != "" {
		return h
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Description returns the documented paragraph that introduces the class.
func (c Class) Description() string { return c.info().description }
