package admin_test

import (
	"testing"

	"github.com/clearline/clearline/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m) }
