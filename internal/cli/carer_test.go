package cli

import (
	"context"
	"testing"

	"github.com/clearline/clearline/internal/dash"
	"github.com/clearline/clearline/internal/guard"
	"github.com/clearline/clearline/internal/store/sqlite"
)

// Carer Check rings the household's guardians with a phone number, in the order they were
// added; guardians of other households, those without a number and removed people are not
// rung.
func TestCarers(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"mum", "gran"} {
		if _, err := db.EnsureHousehold(ctx, dash.Household{ID: id, Name: id, Settings: dash.DefaultSettings()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ email, name, household, phone string }{
		{"nophone@example.org", "No Phone", "mum", ""},
		{"sarah@example.org", "Sarah", "mum", "07700 900123"},
		{"other@example.org", "Other", "gran", "07700 900555"},
		{"gone@example.org", "Gone", "mum", "07700 900666"},
		{"tom@example.org", "Tom", "mum", "+44 7700 900999"},
	} {
		created, err := db.CreateUser(ctx, dash.User{Email: u.email, Name: u.name, Role: dash.Guardian}, "x")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetGuardian(ctx, created.ID, u.household, true); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveChannels(ctx, created.ID, dash.Channels{Phone: u.phone}); err != nil {
			t.Fatal(err)
		}
		if u.name == "Gone" {
			if err := db.RemoveUser(ctx, created.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := carers(ctx, db, "mum")
	if err != nil {
		t.Fatal(err)
	}
	want := []guard.Carer{{Name: "Sarah", Number: "+447700900123"}, {Name: "Tom", Number: "+447700900999"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("carers = %+v; want %+v", got, want)
	}
}
