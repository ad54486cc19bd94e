package problem

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/virtuheal/apierrors/status"
)

// AppendXML appends p as an XML document (RFC 9457 Appendix B), with its
// XML declaration, to b.
func (p *Problem) AppendXML(b []byte) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(buf).Encode(p); err != nil {
		return b, err
	}
	return buf.Bytes(), nil
}

// The header values of every problem response. They are shared, never
// modified; http.Header.Add copies before appending, since len == cap.
var (
	contentTypeJSON = []string{MediaType}
	contentTypeXML  = []string{MediaTypeXML}
	varyAccept      = []string{"Accept"}
	noStore         = []string{"no-store"}
	noSniff         = []string{"nosniff"}
)

// SetHeaders sets the headers every problem response carries: Content-Type
// (mediaType: MediaType or MediaTypeXML), Vary: Accept, since the body
// depends on it, Cache-Control: no-store, so that no cache replays an error
// to another client, and X-Content-Type-Options: nosniff. Vary values
// already present, such as Origin from CORS, are kept.
//
// It allocates nothing: the values are shared slices, which callers must
// not modify in place.
func SetHeaders(h http.Header, mediaType string) {
	if mediaType == MediaTypeXML {
		h["Content-Type"] = contentTypeXML
	} else {
		h["Content-Type"] = contentTypeJSON
	}
	if len(h["Vary"]) == 0 {
		h["Vary"] = varyAccept
	} else {
		AddVary(h, "Accept")
	}
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
}

// AddVary adds field to the Vary header of h unless it is listed already
// or Vary is "*".
func AddVary(h http.Header, field string) {
	if !varies(h["Vary"], field) {
		h["Vary"] = append(h["Vary"], field)
	}
}

// varies reports whether a Vary header already names field.
func varies(values []string, field string) bool {
	for _, v := range values {
		if strings.HasPrefix(v, field) && (len(v) == len(field) || v[len(field)] == ',') {
			return true // the common case, spelled as field is: no parsing
		}
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, field) {
				return true
			}
		}
	}
	return false
}

// Write sends p as the response to r, in JSON or XML as r's Accept header
// prefers (see Negotiate), with the headers of SetHeaders and a
// Content-Length. A HEAD request gets the headers only.
//
// The HTTP status is p.Status when the documented table lists it as an
// error code; otherwise status.ErrorCode decides, and the body's status
// says the same as the response's. Write sends nothing when p cannot be
// encoded, so the caller can still send something else.
func Write(w http.ResponseWriter, r *http.Request, p *Problem) error {
	if code, ok := status.ErrorCode(p.Status); !ok {
		q := p.clone()
		q.Status = int(code)
		if q.Title == "" {
			q.Title = code.Title()
		}
		p = q
	}
	mediaType := Negotiate(r.Header.Get("Accept"))
	var body []byte
	var err error
	if mediaType == MediaTypeXML {
		body, err = p.AppendXML(nil)
	} else {
		body, err = p.AppendJSON(nil)
	}
	if err != nil {
		return err
	}
	h := w.Header()
	SetHeaders(h, mediaType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(body)
	return err
}
