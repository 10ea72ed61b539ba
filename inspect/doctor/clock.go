package doctor

import (
	"fmt"
	"time"

	"github.com/ssoctl/ssoctl/inspect"
)

// clock compares Keycloak's clock with Vault's (what Vault's time checks
// see) and each server's with this machine's (what Django sites running
// here see). Vault's tolerance is the smallest of its roles': a jwt role's
// clock_skew_leeway (0 means 60s, negative none); an OIDC role's iat check
// allows a minute and its exp none.
func (d *doc) clock() {
	kc, v := d.live.kcClock, d.live.vaultClock
	leeway, by := time.Minute, "Vault's default"
	for _, m := range d.live.mounts {
		for _, name := range m.names {
			r := m.roles[name]
			l := time.Minute
			switch {
			case r.RoleType == "oidc":
			case r.ClockSkewLeeway < 0:
				l = 0
			case r.ClockSkewLeeway > 0:
				l = r.ClockSkewLeeway
			}
			if l < leeway {
				leeway, by = l, fmt.Sprintf("clock_skew_leeway of role %s/%s", m.view.Path, name)
			}
		}
	}
	if !kc.server.IsZero() && !v.server.IsZero() {
		// Each reading is server time against local time; the difference
		// of the two offsets is Keycloak's clock against Vault's.
		skew := kc.local.Sub(kc.server) - v.local.Sub(v.server)
		ev := fmt.Sprintf("Keycloak %s by %s; Vault %s by %s", kc.server.UTC().Format(time.TimeOnly), kc.source, v.server.UTC().Format(time.TimeOnly), v.source)
		// Both readings count whole seconds.
		if abs(skew) > leeway+2*time.Second {
			d.add(Check{ID: "clock.keycloak-vault", System: sysVault, Status: Fail, Evidence: ev,
				Message: fmt.Sprintf("Keycloak's clock and Vault's are %s apart, more than the %s allowed (%s): Vault refuses fresh tokens (%s)", abs(skew).Round(time.Second), leeway, by, inspect.VaultMsgClockRefusals),
				Fix:     "sync both hosts' clocks with NTP"})
		} else {
			d.ok(sysVault, "clock.keycloak-vault", fmt.Sprintf("Keycloak's clock and Vault's agree within %s (%s allowed)", abs(skew).Round(time.Second)+2*time.Second, leeway))
		}
	}
	for _, s := range []struct {
		system string
		r      clockReading
	}{{sysKeycloak, kc}, {sysVault, v}} {
		if s.r.server.IsZero() {
			continue
		}
		skew := abs(s.r.local.Sub(s.r.server))
		ev := fmt.Sprintf("%s %s by %s; this machine %s", s.system, s.r.server.UTC().Format(time.TimeOnly), s.r.source, s.r.local.UTC().Format(time.TimeOnly))
		if skew > 5*time.Second {
			d.add(Check{ID: "clock.skew", System: s.system, Status: Warn, Evidence: ev,
				Message: fmt.Sprintf("%s's clock is %s off this machine's: a Django site here that checks token times refuses fresh tokens (social-auth's Keycloak backend allows no leeway, JWT_LEEWAY 0)", s.system, skew.Round(time.Second)),
				Fix:     "sync the clocks with NTP"})
		} else {
			d.ok(s.system, "clock.skew", fmt.Sprintf("%s's clock agrees with this machine's (within %s)", s.system, skew.Round(time.Second)+time.Second))
		}
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
