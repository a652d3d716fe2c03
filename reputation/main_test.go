package reputation

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(kill9DirEnv); dir != "" {
		os.Exit(kill9Child(dir))
	}
	goleak.VerifyTestMain(m)
}
