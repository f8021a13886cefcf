// Package usage marks a command's usage errors (a bad flag or argument,
// found before any work), which the CLI's entry point exits 2 on, apart
// from failures of the work itself (exit 1), and parses flags the way every
// logfan command does.
package usage

import (
	"errors"
	"flag"
	"fmt"
	"io"
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

// Parse parses args into fs. -h (or -help) prints fs.Usage and returns
// flag.ErrHelp, which the entry point exits 0 on. A bad flag returns a usage
// error naming it, without the flag package's own copy of the message and
// of the whole usage: the entry point prints the error once, and how to get
// the usage (`logfan help CMD`).
func Parse(fs *flag.FlagSet, args []string) error {
	out, usageFn := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usageFn
	switch {
	case errors.Is(err, flag.ErrHelp):
		if usageFn != nil {
			usageFn()
		} else {
			fmt.Fprintf(out, "usage of logfan %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return flag.ErrHelp
	case err != nil:
		return Wrap(err)
	}
	return nil
}

// NoArgs is a usage error when fs was left arguments that are not flags:
// commands that take only flags say so rather than ignore them.
func NoArgs(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	return Errorf("unexpected arguments %q: every input is a flag", fs.Args())
}

// NewFlagSet is a command's flag set, named as the command is ("doctor
// sender"): its messages go to stderr, and -h prints text (the usage line
// and what the command does), then the flags.
func NewFlagSet(name string, stderr io.Writer, text string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fs.PrintDefaults()
	}
	return fs
}
