package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of p to b and returns the extended
// buffer. It is what MarshalJSON produces, without its allocation.
//
// The standard members come first, in the order of RFC 9457's examples;
// type is always present (BlankType when empty) and the others are left
// out when empty. type and instance go through EscapeURIReference, so
// they are valid URI references whatever they hold. Extensions follow in
// key order. Strings are escaped exactly as encoding/json escapes them, so
// the output is byte-identical to encoding/json's for the same members.
//
// It fails only when an extension value cannot be encoded (a channel, a
// NaN, a cycle); b is then returned unextended.
func (p *Problem) AppendJSON(b []byte) ([]byte, error) {
	start := len(b)
	b = appendHead(b, p.Type, p.Title, p.Status)
	b = appendDetail(b, p.Detail)
	b = appendInstance(b, p.Instance)
	b, err := appendExtensions(b, p.Extensions)
	if err != nil {
		return b[:start], err
	}
	return append(b, '}'), nil
}

// MarshalJSON implements json.Marshaler.
func (p *Problem) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(nil)
}

// A Template is the JSON encoding of the members of a problem that stay
// the same from one occurrence to the next (type, title, status and a
// default detail), made once. Encoding an occurrence then costs only its
// own members, which matters when errors are a large share of traffic.
type Template struct {
	head   []byte // {"type":…,"title":…,"status":…
	detail []byte // ,"detail":… or nothing
}

// Template returns p's type, title, status and detail, encoded. Its
// Instance and Extensions play no part.
func (p *Problem) Template() *Template {
	return &Template{
		head:   appendHead(nil, p.Type, p.Title, p.Status),
		detail: appendDetail(nil, p.Detail),
	}
}

// AppendJSON appends the problem made of t's members and the given ones to
// b: detail replaces the default detail unless empty. The bytes are the
// same as (*Problem).AppendJSON's for that problem.
func (t *Template) AppendJSON(b []byte, detail, instance string, extensions map[string]any) ([]byte, error) {
	start := len(b)
	b = t.appendStandard(b, detail, instance)
	b, err := appendExtensions(b, extensions)
	if err != nil {
		return b[:start], err
	}
	return append(b, '}'), nil
}

// A Member is one extension member: a name and its value, as a key and
// value of Problem.Extensions.
type Member struct {
	Name  string
	Value any
}

// AppendJSONMembers is AppendJSON with the extension members given as a
// list instead of a map, which spares a server building a map for each
// response. The bytes are those AppendJSON produces for the map of the
// same members: they follow in name order, and standard members' names
// are skipped. A name given twice is an error, as is a value that cannot
// be encoded; b is then returned unextended.
func (t *Template) AppendJSONMembers(b []byte, detail, instance string, members ...Member) ([]byte, error) {
	start := len(b)
	b = t.appendStandard(b, detail, instance)
	if !slices.IsSortedFunc(members, compareNames) {
		var small [8]Member
		members = append(small[:0], members...) // the caller's list stays as it is
		slices.SortFunc(members, compareNames)
	}
	b, err := appendMembers(b, members)
	if err != nil {
		return b[:start], err
	}
	return append(b, '}'), nil
}

// appendStandard appends the standard members, leaving the object open.
func (t *Template) appendStandard(b []byte, detail, instance string) []byte {
	b = append(b, t.head...)
	if detail == "" {
		b = append(b, t.detail...)
	} else {
		b = appendDetail(b, detail)
	}
	return appendInstance(b, instance)
}

// appendHead opens the object with the members every problem of one type
// shares.
func appendHead(b []byte, typ, title string, status int) []byte {
	if typ == "" {
		typ = BlankType
	}
	b = append(b, `{"type":`...)
	b = appendURIReference(b, typ)
	if title != "" {
		b = append(b, `,"title":`...)
		b = appendString(b, title)
	}
	if status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	return b
}

func appendDetail(b []byte, detail string) []byte {
	if detail == "" {
		return b
	}
	b = append(b, `,"detail":`...)
	return appendString(b, detail)
}

// appendURIReference appends s, escaped by EscapeURIReference, as a JSON
// string: in one pass over s when, as usual, neither needs to escape.
func appendURIReference(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainURIJSON[s[i]] {
			return appendString(b, EscapeURIReference(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainURIJSON marks the bytes that neither EscapeURIReference nor a JSON
// string escapes.
var plainURIJSON = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = uriPlain[c] && safeASCII[c]
	}
	return t
}()

func appendInstance(b []byte, instance string) []byte {
	if instance == "" {
		return b
	}
	b = append(b, `,"instance":`...)
	return appendURIReference(b, instance)
}

// appendExtensions appends a map's members in name order.
func appendExtensions(b []byte, ext map[string]any) ([]byte, error) {
	if len(ext) == 0 {
		return b, nil
	}
	var small [8]Member
	members := small[:0]
	for k, v := range ext {
		members = append(members, Member{k, v})
	}
	slices.SortFunc(members, compareNames)
	return appendMembers(b, members)
}

func compareNames(a, b Member) int { return strings.Compare(a.Name, b.Name) }

// appendMembers appends members, sorted by name, leaving out standard
// names.
func appendMembers(b []byte, members []Member) ([]byte, error) {
	for i, m := range members {
		if i > 0 && m.Name == members[i-1].Name {
			return b, fmt.Errorf("problem: extension member %q given twice", m.Name)
		}
		if isStandard(m.Name) {
			continue
		}
		b = append(b, ',')
		b = appendString(b, m.Name)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, m.Value); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendValue encodes an extension value. Strings and validation errors,
// the values the middleware adds to every kind of problem, take a fast
// path; anything else goes through encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(b, v), nil
	case []FieldError:
		return appendFieldErrors(b, v), nil
	case *EncodedErrors:
		if v == nil {
			return append(b, "null"...), nil
		}
		return append(b, v.json...), nil
	case nil:
		return append(b, "null"...), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

func appendFieldErrors(b []byte, errs []FieldError) []byte {
	if errs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"detail":`...)
		b = appendString(b, e.Detail)
		b = appendMember(b, "pointer", e.Pointer)
		b = appendMember(b, "parameter", e.Parameter)
		b = appendMember(b, "header", e.Header)
		b = appendMember(b, "rule", e.Rule)
		b = appendMember(b, "param", e.RuleParam)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendMember appends ,"name":"value" unless value is empty; name must
// need no escaping.
func appendMember(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

const hex = "0123456789abcdef"

// safeASCII marks the ASCII bytes a JSON string holds unescaped under
// encoding/json's default, HTML-safe rules.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plainPrefix returns the length, in whole 8-byte words, of the start of
// s that a JSON string holds as it is: ASCII without control characters,
// quotes, backslashes or <, > and &. Most strings are all plain, and a
// word is tested at once instead of byte by byte.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n := 0
	for ; n+8 <= len(s); n += 8 {
		w := uint64(s[n]) | uint64(s[n+1])<<8 | uint64(s[n+2])<<16 | uint64(s[n+3])<<24 |
			uint64(s[n+4])<<32 | uint64(s[n+5])<<40 | uint64(s[n+6])<<48 | uint64(s[n+7])<<56
		// With every byte under 0x80, (x-ones)&^x has a high bit set if
		// and only if x has a zero byte, and below if and only if w has
		// a byte under 0x20: a yes-or-no test for the whole word.
		below := (w - 0x20*ones) &^ w
		quote := w ^ '"'*ones
		backslash := w ^ '\\'*ones
		lt := w ^ '<'*ones
		gt := w ^ '>'*ones
		amp := w ^ '&'*ones
		zero := (quote-ones)&^quote | (backslash-ones)&^backslash | (lt-ones)&^lt | (gt-ones)&^gt | (amp-ones)&^amp
		if (w|below|zero)&highs != 0 {
			break
		}
	}
	return n
}

// appendString appends s as a JSON string, escaped as encoding/json does
// by default: quotes, backslashes and control characters, the HTML
// characters <, > and &, U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if len(s)-i >= 8 {
			if n := plainPrefix(s[i:]); n > 0 {
				i += n
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// errNotObject is returned for JSON that is valid but not an object.
var errNotObject = errors.New("problem: JSON value is not an object")

// UnmarshalJSON implements json.Unmarshaler. It follows RFC 9457 §3.1: a
// standard member whose JSON type is wrong is ignored, as if absent; an
// absent type means BlankType; every other member becomes an extension,
// with numbers kept exactly as json.Number.
func (p *Problem) UnmarshalJSON(data []byte) error {
	_, err := p.decodeJSON(data)
	return err
}

// decodeJSON decodes data into p and reports how many standard members
// it found with the right type.
func (p *Problem) decodeJSON(data []byte) (standard int, err error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return 0, err
	}
	if members == nil {
		return 0, errNotObject
	}
	*p = Problem{Type: BlankType}
	for name, raw := range members {
		if !isStandard(name) {
			v, err := decodeAny(raw)
			if err != nil {
				return 0, err
			}
			if p.Extensions == nil {
				p.Extensions = make(map[string]any)
			}
			p.Extensions[name] = v
			continue
		}
		if string(raw) == "null" {
			continue // null is no string or number: ignored too
		}
		if name == "status" {
			if p.setMember(name, string(raw)) { // a JSON integer, as text
				standard++
			}
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil && p.setMember(name, s) {
			standard++
		} // else the wrong type: ignored, RFC 9457 §3.1
	}
	return standard, nil
}

func decodeAny(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
