// Package usage marks a command's usage errors (a bad flag or argument,
// found before any work), which the CLI's entry point exits 2 on, apart
// from failures of the work itself (exit 1).
package usage

import (
	"errors"
	"fmt"
)

// Error is a usage error: the command was called wrongly.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a usage error formatted as fmt.Errorf does.
func Errorf(format string, a ...any) error { return &Error{fmt.Errorf(format, a...)} }

// Wrap marks err as a usage error (nil stays nil).
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{err}
}

// Is reports whether err is (or wraps) a usage error.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
