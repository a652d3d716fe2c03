package client_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's run if a test or example leaves goroutines
// behind (closed listeners, nodes and clients must end theirs).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
