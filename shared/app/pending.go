package app

import (
	"context"
	"errors"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/sink"
)

var errPending = errors.New("sink not wired yet")

func newS3(context.Context, *config.Config, quarantine.Quarantine) (sink.Sink, quarantine.Quarantine, error) {
	return nil, nil, errPending
}

func newFirehose(context.Context, *config.Config, quarantine.Quarantine) (sink.Sink, quarantine.Quarantine, error) {
	return nil, nil, errPending
}

func newLogs(context.Context, *config.Config, quarantine.Quarantine) (sink.Sink, quarantine.Quarantine, error) {
	return nil, nil, errPending
}
