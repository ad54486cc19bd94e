package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// ProblemTypesHandler returns a handler that serves the human-readable
// documentation RFC 9457 §3.1.1 asks type URIs to resolve to: an HTML page
// per documented error code at cfg.TypeBase + slug, and an index at
// cfg.TypeBase. Mount it on the base's path:
//
//	e.GET("/problems/*", middleware.ProblemTypesHandler(cfg))
//
// The pages are rendered once, when the handler is built, from the
// documented table alone: nothing from a request reaches them. They are
// sent with a Content-Security-Policy that allows only their own style.
// An unknown slug is a 404 problem. It panics if cfg.TypeBase is empty.
func ProblemTypesHandler(cfg Config) echo.HandlerFunc {
	if cfg.TypeBase == "" {
		panic("apierrors/middleware: ProblemTypesHandler needs Config.TypeBase")
	}
	base, err := url.Parse(cfg.TypeBase)
	if err != nil {
		panic("apierrors/middleware: Config.TypeBase: " + err.Error())
	}
	prefix := base.Path
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	pages := map[string][]byte{"": renderPage(indexTemplate, indexData(cfg.TypeBase))}
	for _, c := range status.All() {
		if c.IsError() {
			pages[c.Slug()] = renderPage(typeTemplate, typeData(cfg.TypeBase, c))
		}
	}
	return func(c echo.Context) error {
		slug, ok := strings.CutPrefix(c.Request().URL.Path, prefix)
		if !ok && c.Request().URL.Path+"/" == prefix {
			slug, ok = "", true
		}
		page, found := pages[slug]
		if !ok || !found {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "public, max-age=3600")
		return c.HTMLBlob(http.StatusOK, page)
	}
}

// pageStyle is the pages' only style sheet; the CSP allows it by hash.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:1rem;overflow-x:auto}
table{border-collapse:collapse}td,th{text-align:left;padding:.2rem .8rem .2rem 0}`

var pageCSP = "default-src 'none'; style-src 'sha256-" + styleHash() + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func styleHash() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return base64.StdEncoding.EncodeToString(sum[:])
}

var layout = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><style>` + pageStyle + `</style></head>
<body>{{template "body" .}}</body></html>`

var typeTemplate = template.Must(template.Must(template.New("type").Parse(layout)).Parse(`{{define "body"}}
<p><a href="{{.Index}}">Problem types</a></p>
<h1>{{.Code.Title}}</h1>
<table>
<tr><th>Status</th><td><code>{{.Status}}</code> ({{.Code.Name}})</td></tr>
<tr><th>Class</th><td>{{.Code.Class}}</td></tr>
<tr><th>Type URI</th><td><code>{{.TypeURI}}</code></td></tr>
</table>
<h2>What it means</h2>
<p>{{.Code.Description}}</p>
<p>{{.Code.Class.Description}}</p>
<h2>Example</h2>
<pre>HTTP/1.1 {{.Code}}
Content-Type: application/problem+json

{{.Example}}</pre>
{{end}}`))

var indexTemplate = template.Must(template.Must(template.New("index").Parse(layout)).Parse(`{{define "body"}}
<h1>Problem types</h1>
<p>Error responses of Virtuheal APIs are RFC 9457 problem details. Their <code>type</code> is one of these URIs.</p>
<table>
{{range .Entries}}<tr><td><code>{{.Status}}</code></td><td><a href="{{.TypeURI}}">{{.Code.Title}}</a></td><td>{{.Class}}</td></tr>
{{end}}</table>
{{end}}`))

type pageData struct {
	Title   string
	Index   string
	Code    status.Code
	Status  int
	TypeURI string
	Class   status.Class
	Example string
	Entries []pageData
}

func indexData(typeBase string) pageData {
	index := pageData{Title: "Problem types"}
	for _, c := range status.All() {
		if c.IsError() {
			index.Entries = append(index.Entries, typeData(typeBase, c))
		}
	}
	return index
}

func typeData(typeBase string, c status.Code) pageData {
	p := problem.New(c).WithType(typeBase + c.Slug()).WithInstance("/patients/p-1")
	var example bytes.Buffer
	body, _ := p.MarshalJSON()
	_ = json.Indent(&example, body, "", "  ")
	return pageData{
		Title:   c.String(),
		Index:   typeBase,
		Code:    c,
		Status:  int(c),
		TypeURI: typeBase + c.Slug(),
		Class:   c.Class(),
		Example: example.String(),
	}
}

func renderPage(t *template.Template, data pageData) []byte {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		panic("apierrors/middleware: rendering a problem type page: " + err.Error())
	}
	return b.Bytes()
}
