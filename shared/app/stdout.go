package app

import (
	"io"

	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/stdoutsink"
)

func newStdout(w io.Writer) sink.Sink { return stdoutsink.New(w) }
