package middleware

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/status"
)

// Messages of the records that are not plain error responses.
const (
	msgClientGone = "client closed the request"
	msgCommitted  = "error after the response was committed"
)

// log writes the one record of an error response: status, method, path,
// request id and the internal cause chain; a panic's record has its
// stack. 5xx, panics and undocumented codes (a programming error) are
// logged at Error, 4xx and client aborts at ClientErrorLevel. A logger
// that panics is survived.
func (h *handler) log(c echo.Context, err error, o *outcome, msg string) {
	defer func() { _ = recover() }()
	level := slog.LevelError
	switch {
	case msg == msgClientGone:
		level = h.cfg.ClientErrorLevel
	case msg == "" && o.code.Class() == status.ClientError && o.undocumented == 0 && !o.panicked:
		level = h.cfg.ClientErrorLevel
	}
	req := c.Request()
	ctx := req.Context()
	logger := h.logger()
	if !logger.Enabled(ctx, level) {
		return
	}
	if msg == "" {
		switch {
		case o.panicked:
			msg = "panic recovered"
		case o.code.Class() == status.ServerError:
			msg = "server error"
		default:
			msg = "client error"
		}
	}
	var buf [10]slog.Attr
	attrs := buf[:0]
	if msg != msgClientGone { // nothing was sent, so there is no status
		attrs = append(attrs, slog.Int("status", int(o.code)))
	}
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", instance(req)),
		slog.String("error", safeError(err)),
	)
	if id := requestID(c); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if o.matchedRule != "" {
		attrs = append(attrs, slog.String("rule", o.matchedRule))
	}
	if o.undocumented != 0 {
		attrs = append(attrs, slog.Int("undocumented_status", o.undocumented))
	}
	if o.panicStack != nil {
		attrs = append(attrs, slog.String("stack", string(o.panicStack)))
	}
	logger.LogAttrs(ctx, level, msg, attrs...)
}
