// Package statusdoc reads Virtuheal's status-code document (status/codes.md)
// and derives the Go identifiers, titles and slugs the status package uses.
//
// The document is the contract. The parser is strict: a line that looks like
// a table entry but does not parse is an error, so an edit to the document can
// never be silently dropped from the generated code.
package statusdoc

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A Class is one "### <Heading> - Nxx" section of the document.
type Class struct {
	Heading     string // "Client Error"
	Digit       int    // 4
	Description string // the paragraph under the heading
}

// An Entry is one documented status code.
type Entry struct {
	Number      int    // 404
	Name        string // "HTTP_404_NOT_FOUND"
	Description string // "The server can not find the requested resource."
	Class       int    // index into Document.Classes
}

// Document is the parsed table, in document order.
type Document struct {
	Classes []Class
	Entries []Entry
}

var (
	headingRE = regexp.MustCompile("^### (.+) - ([1-5])xx$")
	entryRE   = regexp.MustCompile("^- `(HTTP_([0-9]{3})_([A-Z0-9_]+))` - (.+)$")
)

// Parse reads the document. It fails on any entry outside a class section,
// a number outside its section's class, a malformed entry line, or a
// duplicate number or name.
func Parse(doc []byte) (*Document, error) {
	d := &Document{}
	seenNumber := map[int]bool{}
	seenName := map[string]bool{}
	inParagraph := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "## "):
			inParagraph = false
		case strings.HasPrefix(line, "### "):
			m := headingRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("line %d: malformed class heading %q", lineNo, line)
			}
			digit, _ := strconv.Atoi(m[2])
			d.Classes = append(d.Classes, Class{Heading: m[1], Digit: digit})
			inParagraph = true
		case strings.HasPrefix(line, "- "):
			inParagraph = false
			m := entryRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("line %d: malformed entry %q", lineNo, line)
			}
			if len(d.Classes) == 0 {
				return nil, fmt.Errorf("line %d: entry %s outside a class section", lineNo, m[1])
			}
			n, _ := strconv.Atoi(m[2])
			class := len(d.Classes) - 1
			if n/100 != d.Classes[class].Digit {
				return nil, fmt.Errorf("line %d: %s listed under %q", lineNo, m[1], d.Classes[class].Heading)
			}
			if seenNumber[n] || seenName[m[1]] {
				return nil, fmt.Errorf("line %d: %s listed twice", lineNo, m[1])
			}
			seenNumber[n], seenName[m[1]] = true, true
			d.Entries = append(d.Entries, Entry{Number: n, Name: m[1], Description: m[4], Class: class})
		case inParagraph && line != "":
			c := &d.Classes[len(d.Classes)-1]
			if c.Description != "" {
				c.Description += " "
			}
			c.Description += line
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(d.Entries) == 0 {
		return nil, fmt.Errorf("no status codes found")
	}
	return d, nil
}

// initialisms are the words written in capitals in Go identifiers and titles:
// Go's usual initialisms plus the two the table needs, OK and IM ("IM Used").
var initialisms = map[string]bool{
	"API": true, "DAV": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true,
	"IM": true, "JSON": true, "OK": true, "TLS": true, "URI": true, "URL": true, "XML": true,
}

// prefixes join the following word with a hyphen in a title, as the
// registered reason phrases do ("Non-Authoritative", "Multi-Status").
var prefixes = map[string]bool{"NON": true, "MULTI": true}

// Words returns the words of a documented name after its number:
// HTTP_414_REQUEST_URI_TOO_LONG → [REQUEST URI TOO LONG].
func Words(name string) []string {
	parts := strings.Split(name, "_")
	if len(parts) < 3 {
		return nil
	}
	return parts[2:]
}

func word(w string) string {
	if initialisms[w] {
		return w
	}
	return w[:1] + strings.ToLower(w[1:])
}

// GoName is the Go constant name: the words in CamelCase with initialisms
// kept upper-case. HTTP_226_IM_USED → IMUsed.
func GoName(name string) string {
	var b strings.Builder
	for _, w := range Words(name) {
		b.WriteString(word(w))
	}
	return b.String()
}

// Title is the reason phrase of the documented name:
// HTTP_203_NON_AUTHORITATIVE_INFORMATION → "Non-Authoritative Information".
func Title(name string) string {
	var b strings.Builder
	words := Words(name)
	for i, w := range words {
		b.WriteString(word(w))
		switch {
		case i == len(words)-1:
		case prefixes[w]:
			b.WriteByte('-')
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// Slug is the title in lower case with hyphens, for problem type URIs:
// "Request URI Too Long" → "request-uri-too-long".
func Slug(name string) string {
	return strings.ToLower(strings.ReplaceAll(Title(name), " ", "-"))
}

// ClassName is the Go constant name of a class heading: "Client Error" → ClientError.
func ClassName(heading string) string {
	return strings.ReplaceAll(heading, " ", "")
}
