package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLoadHealth(t *testing.T) {
	c, err := Load(SinkStdout, env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Health.Table != "" || !slices.Equal(c.Health.HeartbeatLogGroups, []string{DefaultHeartbeatLogGroup}) {
		t.Errorf("defaults: %+v, want no table and %s", c.Health, DefaultHeartbeatLogGroup)
	}
	c, err = Load(SinkStdout, env(EnvHealthTable, "health", EnvHeartbeatLogGroup, " /a/hb , /b#c/hb ,"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Health.Table != "health" || !slices.Equal(c.Health.HeartbeatLogGroups, []string{"/a/hb", "/b#c/hb"}) {
		t.Errorf("set: %+v", c.Health)
	}
	_, err = Load(SinkStdout, env(EnvHeartbeatLogGroup, "/ok,/not ok"))
	if err == nil || !strings.Contains(err.Error(), EnvHeartbeatLogGroup) || !strings.Contains(err.Error(), `"/not ok"`) {
		t.Errorf("a bad name: err = %v, want one naming %s and the name", err, EnvHeartbeatLogGroup)
	}
}
