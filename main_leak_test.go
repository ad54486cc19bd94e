package apierrors_test

import (
	"testing"

	"github.com/virtuheal/apierrors/internal/problemtest"
)

// TestMain fails the run when a test leaves a goroutine behind.
func TestMain(m *testing.M) { problemtest.VerifyNoLeaks(m) }
