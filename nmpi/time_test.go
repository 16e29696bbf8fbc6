package nmpi

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimeJSON(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))
	b, err := json.Marshal(At(at))
	if err != nil || string(b) != `"2024-05-01T10:30:00.123456Z"` {
		t.Fatalf("Marshal = %s, %v; want the UTC time to the microsecond with Z", b, err)
	}
	for in, want := range map[string]time.Time{
		`"2024-05-01T10:30:00.123456Z"`: time.Date(2024, 5, 1, 10, 30, 0, 123456000, time.UTC),
		`"2024-05-01T12:30:00+02:00"`:   time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC),
		`"2024-05-01T10:30:00.5"`:       time.Date(2024, 5, 1, 10, 30, 0, 500000000, time.UTC),
		`null`:                          {},
	} {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	var bad Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Error(`Unmarshal("yesterday"): no error`)
	}
}
