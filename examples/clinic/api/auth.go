package api

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
)

// Failures of the edge's own, mapped in errorRules.
var (
	errUnauthenticated = errors.New("missing or unknown bearer token")
	errForbidden       = errors.New("token may not write")
)

type role int

const (
	viewer role = iota + 1 // may read
	staff                  // may read and write
)

// tokens are the demo's credentials. A real service asks its identity
// provider.
var tokens = []struct {
	token string
	role  role
}{
	{"staff-token", staff},
	{"viewer-token", viewer},
}

const roleKey = "clinic.role"

// authenticate accepts the known bearer tokens with Echo's KeyAuth and
// turns every failure into errUnauthenticated, a 401 whose
// WWW-Authenticate the library adds.
func authenticate() echo.MiddlewareFunc {
	return echomw.KeyAuthWithConfig(echomw.KeyAuthConfig{
		KeyLookup:  "header:" + echo.HeaderAuthorization,
		AuthScheme: "Bearer",
		Validator: func(key string, c echo.Context) (bool, error) {
			for _, t := range tokens {
				if subtle.ConstantTimeCompare([]byte(key), []byte(t.token)) == 1 {
					c.Set(roleKey, t.role)
					return true, nil
				}
			}
			return false, nil
		},
		ErrorHandler: func(err error, c echo.Context) error {
			return fmt.Errorf("%w: %v", errUnauthenticated, err)
		},
	})
}

// staffOnly lets only staff tokens through; it runs after authenticate.
func staffOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r, _ := c.Get(roleKey).(role); r != staff {
			return errForbidden
		}
		return next(c)
	}
}
