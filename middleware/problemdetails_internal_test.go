package middleware

import (
	"math"
	"testing"
	"time"
)

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "0",
		-time.Hour:                   "0",
		time.Nanosecond:              "1",
		time.Second:                  "1",
		1500 * time.Millisecond:      "2",
		90 * time.Second:             "90",
		time.Duration(math.MaxInt64): "9223372037",
		time.Duration(math.MinInt64): "0",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}
