// Package apierrors is Virtuheal's error layer for Go HTTP services: every
// error a service returns reaches the client as an RFC 9457 problem
// details body whose status, title and description come from Virtuheal's
// documented table of status codes.
//
// The module has three layers, each usable on its own:
//
//   - [github.com/virtuheal/apierrors/status]: the documented status codes
//     as typed Go constants, generated from status/codes.md.
//   - [github.com/virtuheal/apierrors/problem]: the RFC 9457 wire format in
//     JSON and XML, the Problem error type that handlers return, a writer
//     for net/http, and Parse for API consumers. Standard library only.
//   - [github.com/virtuheal/apierrors/middleware]: the Echo v4 glue, which
//     maps Go errors, validation failures, Echo's own errors and panics to
//     documented codes and renders them as problems.
//
// A 5xx response never carries an internal error's text: causes are for
// logs, and the client gets the documented description.
package apierrors
