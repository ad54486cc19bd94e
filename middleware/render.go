package middleware

import (
	"net/http"
	"slices"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// Shared header values. They are never modified in place; http.Header.Add
// copies them before appending, since len == cap.
var (
	varyAcceptLanguage = []string{"Accept, Accept-Language"}
	contentTypeJSON    = []string{problem.MediaType}
	noStore            = []string{"no-store"}
	noSniff            = []string{"nosniff"}
)

// isStale reports whether a header describes the representation the
// failing handler meant to send: it would lie about the problem that
// replaces it. Headers such as Allow, WWW-Authenticate, Set-Cookie and
// CORS ones are kept.
func isStale(key string) bool {
	switch key {
	case "Content-Length", "Content-Range", "Content-Disposition", "Content-Encoding", "Content-Location",
		"Content-Digest", "Repr-Digest", "Digest", "Etag", "Last-Modified", "Location":
		return true
	}
	return false
}

// bufferPool holds encoding buffers; oversized ones are dropped, so a rare
// huge problem does not pin memory.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledBuffer = 64 << 10

// send builds the problem for o, writes it and returns it when OnError
// wants it.
func (h *handler) send(c echo.Context, err error, o *outcome) *problem.Problem {
	req, res := c.Request(), c.Response()
	lang := negotiateLanguage(first(req.Header, "Accept-Language"))
	inst := o.instance
	if inst == "" {
		inst = instance(req)
	}
	var stack [8]problem.Member
	members := h.members(stack[:0], c, err, o, lang)

	mediaType := problem.Negotiate(first(req.Header, "Accept"))
	bufp := bufferPool.Get().(*[]byte)
	var body []byte
	var encErr error
	var p problem.Problem // built only when the templates cannot serve
	built := false
	if mediaType == problem.MediaType && o.typeURI == "" && o.title == "" {
		// The common case: everything but detail, instance and extensions
		// is the code's own, or a rule's, and already encoded.
		t, detail := h.templates[o.code-400][lang.index()], o.detail
		switch {
		case o.rule > 0 && h.ruleTemplates[o.rule-1][0] != nil:
			t, detail = h.ruleTemplates[o.rule-1][lang.index()], ""
		case detail == o.code.Description():
			detail = "" // the template's own
		}
		body, encErr = t.AppendJSONMembers((*bufp)[:0], detail, inst, members...)
	} else {
		ext := extensionsPool.Get().(map[string]any)
		p, built = h.problemFor(o, lang, inst, fill(ext, members)), true
		body, encErr = encode((*bufp)[:0], &p, mediaType)
		clear(ext)
		extensionsPool.Put(ext)
		p.Extensions = nil // pooled: not for OnError
	}
	if encErr != nil {
		// An extension that cannot be encoded (a channel, a NaN, a cycle)
		// is a server bug: send the fixed 500 and log why.
		h.logger().Error("apierrors: problem could not be encoded; sent the fallback 500", "error", safeError(encErr), "status", o.code)
		o.code = status.InternalServerError
		body, mediaType = fallbackFor(mediaType)
		p, built = fallbackProblem, true
		members = nil
		lang = &languages[0] // the fallback is in English
	}

	hdr := res.Header()
	if len(hdr) > 0 {
		for k := range hdr {
			if isStale(k) {
				delete(hdr, k)
			}
		}
	}
	if vary := hdr["Vary"]; len(vary) == 0 && mediaType == problem.MediaType {
		// The common case, spelled out: the headers of problem.SetHeaders,
		// set without its lookups of a Vary that is not there.
		hdr["Content-Type"] = contentTypeJSON
		hdr["Vary"] = varyAcceptLanguage
		hdr["Cache-Control"] = noStore
		hdr["X-Content-Type-Options"] = noSniff
	} else {
		problem.SetHeaders(hdr, mediaType)
		problem.AddVary(hdr, "Accept-Language")
	}
	hdr["Content-Language"] = lang.header
	switch o.code {
	case status.Unauthorized:
		if len(hdr["Www-Authenticate"]) == 0 {
			hdr["Www-Authenticate"] = h.challenge
		}
	case status.TooManyRequests, status.ServiceUnavailable:
		if len(hdr["Retry-After"]) == 0 {
			if o.hasRetry {
				hdr["Retry-After"] = []string{retryAfterSeconds(o.retryAfter)}
			} else {
				hdr["Retry-After"] = h.retryAfter
			}
		}
	}
	res.WriteHeader(int(o.code))
	if req.Method != http.MethodHead {
		_, _ = res.Write(body) // a failed write means the client left
	}
	if encErr == nil && cap(body) <= maxPooledBuffer {
		*bufp = body[:0]
		bufferPool.Put(bufp)
	}

	if h.cfg.OnError == nil {
		return nil
	}
	if !built {
		p = h.problemFor(o, lang, inst, nil)
	}
	out := p // the hook gets its own copy, map and entries included
	if len(members) > 0 {
		out.Extensions = fill(make(map[string]any, len(members)), members)
		if list, ok := out.Extensions[problem.ErrorsKey].(*problem.EncodedErrors); ok {
			out.Extensions[problem.ErrorsKey] = list.Errors()
		}
	}
	return &out
}

// problemFor is the problem of o in lang, with its instance and
// extensions: what the templates encode, as a value.
func (h *handler) problemFor(o *outcome, lang *language, inst string, ext map[string]any) problem.Problem {
	p := problem.Problem{
		Type:       o.typeURI,
		Title:      o.title,
		Status:     int(o.code),
		Detail:     o.detail,
		Instance:   inst,
		Extensions: ext,
	}
	if p.Type == "" {
		p.Type = h.typeURIs[o.code-400]
	}
	if p.Title == "" {
		p.Title = lang.title(o.code)
	}
	if p.Detail == "" {
		p.Detail = o.code.Description()
	}
	return p
}

func encode(b []byte, p *problem.Problem, mediaType string) ([]byte, error) {
	if mediaType == problem.MediaTypeXML {
		q := *p // the XML encoder keeps its argument: copy, so p stays on the stack
		return q.AppendXML(b)
	}
	return p.AppendJSON(b)
}

// extensionsPool holds the maps of problems that are not encoded from a
// template; send returns them once the body is written.
var extensionsPool = sync.Pool{New: func() any { return make(map[string]any, 8) }}

// members appends to buf the problem's extension members: those the
// middleware adds, in name order, and the problem's own, which win.
func (h *handler) members(buf []problem.Member, c echo.Context, err error, o *outcome, lang *language) []problem.Member {
	if h.cfg.ExposeInternalErrors {
		buf = append(buf, problem.Member{Name: "debug", Value: debugInfo(err, o)})
	}
	switch {
	case o.validation != nil:
		buf = append(buf, problem.Member{Name: problem.ErrorsKey, Value: validationErrors(o, lang)})
	case o.binding != nil:
		buf = append(buf, problem.Member{Name: problem.ErrorsKey, Value: []problem.FieldError{{Detail: o.detail, Parameter: bounded(o.binding.Field)}}})
	}
	if id := requestID(c); id != "" {
		buf = append(buf, problem.Member{Name: "request_id", Value: id})
	}
	if id := traceID(c.Request()); id != "" {
		buf = append(buf, problem.Member{Name: "trace_id", Value: id})
	}
	if len(o.extensions) == 0 {
		return buf // and skip setting up a range over no map
	}
	for k, v := range o.extensions {
		if i := slices.IndexFunc(buf, func(m problem.Member) bool { return m.Name == k }); i >= 0 {
			buf[i].Value = v
		} else {
			buf = append(buf, problem.Member{Name: k, Value: v})
		}
	}
	return buf
}

// fill adds members to ext and returns it.
func fill(ext map[string]any, members []problem.Member) map[string]any {
	for _, m := range members {
		ext[m.Name] = m.Value
	}
	return ext
}

// debugInfo is the "debug" extension of ExposeInternalErrors.
func debugInfo(err error, o *outcome) map[string]any {
	var causes []string
	walk(err, func(e error) bool { causes = append(causes, safeError(e)); return false })
	d := map[string]any{"causes": causes}
	if o.panicStack != nil {
		d["stack"] = string(o.panicStack)
	}
	return d
}

// isProblemResponse reports whether the headers are those of a problem
// this package sent.
func isProblemResponse(h http.Header) bool {
	ct := h["Content-Type"]
	return len(ct) == 1 && (ct[0] == problem.MediaType || ct[0] == problem.MediaTypeXML)
}

// The fixed problem of last resort, prebuilt so that sending it cannot fail.
var (
	fallbackProblem = *problem.New(status.InternalServerError)
	fallbackJSON    = mustEncode(problem.MediaType)
	fallbackXML     = mustEncode(problem.MediaTypeXML)
)

func mustEncode(mediaType string) []byte {
	b, err := encode(nil, &fallbackProblem, mediaType)
	if err != nil {
		panic(err)
	}
	return b
}

func fallbackFor(mediaType string) ([]byte, string) {
	if mediaType == problem.MediaTypeXML {
		return fallbackXML, mediaType
	}
	return fallbackJSON, problem.MediaType
}

// writeFallback sends the fixed 500 when handling itself failed.
func writeFallback(c echo.Context) {
	hdr := c.Response().Header()
	for k := range hdr {
		if isStale(k) {
			delete(hdr, k)
		}
	}
	body, mediaType := fallbackFor(problem.Negotiate(first(c.Request().Header, "Accept")))
	problem.SetHeaders(hdr, mediaType)
	hdr["Content-Language"] = languages[0].header
	c.Response().WriteHeader(http.StatusInternalServerError)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(body)
	}
}
