package api

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/examples/clinic/patient"
)

type handlers struct {
	store   *patient.Store
	timeout time.Duration
}

func (h *handlers) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// listQuery is GET /patients' query. Binding fills it; validation checks
// the range and reports the parameter by name.
type listQuery struct {
	Limit int `query:"limit" validate:"min=1,max=100"`
}

func (h *handlers) listPatients(c echo.Context) error {
	q := listQuery{Limit: 20}
	// A value that is not a number fails binding: 400 naming "limit".
	if err := echo.QueryParamsBinder(c).Int("limit", &q.Limit).BindError(); err != nil {
		return err
	}
	// A number out of range fails validation: 422 with a "parameter" entry.
	if err := c.Validate(&q); err != nil {
		return err
	}
	patients, err := h.store.List(c.Request().Context(), q.Limit)
	if err != nil {
		return fmt.Errorf("list patients: %w", err)
	}
	return c.JSON(http.StatusOK, map[string]any{"patients": patients})
}

func (h *handlers) getPatient(c echo.Context) error {
	p, err := h.store.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return fmt.Errorf("get patient %q: %w", c.Param("id"), err) // ErrNotFound → 404
	}
	return c.JSON(http.StatusOK, p)
}

// createPatientRequest is POST /patients' body.
type createPatientRequest struct {
	Name      string           `json:"name" validate:"required,max=200"`
	Email     string           `json:"email" validate:"required,email,max=254"`
	BirthDate string           `json:"birth_date" validate:"required,datetime=2006-01-02"`
	Contacts  []contactRequest `json:"contacts" validate:"omitempty,max=10,dive"`
}

type contactRequest struct {
	Name  string `json:"name" validate:"required,max=200"`
	Phone string `json:"phone" validate:"required,e164"`
}

func (h *handlers) createPatient(c echo.Context) error {
	// Echo would bind a form too; this API speaks JSON only.
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return echo.ErrUnsupportedMediaType
	}
	var req createPatientRequest
	if err := (&echo.DefaultBinder{}).BindBody(c, &req); err != nil {
		return err // malformed JSON → 400; over 64 KiB → 413
	}
	if err := c.Validate(&req); err != nil {
		return err // every failed field at once → 422
	}
	p := patient.Patient{Name: req.Name, Email: req.Email, BirthDate: req.BirthDate}
	for _, ct := range req.Contacts {
		p.Contacts = append(p.Contacts, patient.Contact{Name: ct.Name, Phone: ct.Phone})
	}
	created, err := h.store.Create(c.Request().Context(), p)
	if err != nil {
		return fmt.Errorf("create patient: %w", err) // ErrDuplicateEmail → 409
	}
	c.Response().Header().Set(echo.HeaderLocation, "/patients/"+created.ID)
	return c.JSON(http.StatusCreated, created)
}

func (h *handlers) deletePatient(c echo.Context) error {
	if err := h.store.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return fmt.Errorf("delete patient %q: %w", c.Param("id"), err)
	}
	return c.NoContent(http.StatusNoContent)
}

// retryLater is a failure that knows when trying again makes sense; the
// library sends its delay as Retry-After.
type retryLater struct {
	err   error
	after time.Duration
}

func (e retryLater) Error() string             { return e.err.Error() }
func (e retryLater) Unwrap() error             { return e.err }
func (e retryLater) RetryAfter() time.Duration { return e.after }

// slowReport takes twice the request deadline, so the deadline wins: it
// stops as soon as the context is done, and ContextTimeout turns the
// deadline into a 503. When a stalled process finds both ready, select
// picks either, so the context is asked again before answering.
func (h *handlers) slowReport(c echo.Context) error {
	ctx := c.Request().Context()
	timer := time.NewTimer(2 * h.timeout)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return retryLater{err: fmt.Errorf("building report: %w", err), after: 30 * time.Second}
	}
	return c.JSON(http.StatusOK, map[string]string{"report": "done"})
}

// debugPanic panics with the client's message: nothing of it reaches the
// client.
func (h *handlers) debugPanic(c echo.Context) error {
	panic("debug panic: " + c.QueryParam("msg"))
}

// debugError fails with an internal error that includes the client's
// message and an internal address: nothing of it reaches the client.
func (h *handlers) debugError(c echo.Context) error {
	cause := fmt.Errorf("dial tcp 10.0.0.3:5432: %s", c.QueryParam("msg"))
	return fmt.Errorf("load ledger: %w", cause)
}
