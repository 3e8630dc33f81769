// Command clearline is the guard, dashboard and hub of clearline in one binary.
package main

import (
	"os"

	"github.com/clearline/clearline/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
