// SPDX-License-Identifier: MIT
/*
 * The throttle schedule and the pacer (see schedule.h). The schedule is a
 * short sorted table looked up from the end; the pacer is a virtual clock
 * (the time the link would be free again), which is exact for any mix of
 * write sizes and for rate changes between writes.
 */
#include <errno.h>
#include <string.h>

#include "common/clock.h"
#include "common/parse.h"
#include "probe/schedule.h"

static int parse_rate(const char *s, double *out)
{
	double v;

	if (xtel_parse_double(s, 0, 100000, &v))
		return -EINVAL;
	if (v != 0 && v < 0.001)
		return -EINVAL;
	*out = v;
	return 0;
}

int xtel_probe_schedule_parse(const char *s, struct xtel_probe_schedule *out)
{
	char buf[1024], *save = NULL, *tok;
	struct xtel_probe_schedule sc = { 0 };

	if (strlen(s) >= sizeof(buf) || !*s)
		return -EINVAL;
	strcpy(buf, s);
	if (!strchr(buf, '=')) {
		if (parse_rate(buf, &sc.step[0].mbps))
			return -EINVAL;
		sc.n = 1;
		*out = sc;
		return 0;
	}
	if (strstr(s, ",,") || s[0] == ',' || s[strlen(s) - 1] == ',')
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		double at;

		if (!eq || sc.n == XTEL_PROBE_MAX_STEPS)
			return -EINVAL;
		*eq = '\0';
		if (xtel_parse_double(tok, 0, 1e9, &at) ||
		    parse_rate(eq + 1, &sc.step[sc.n].mbps))
			return -EINVAL;
		sc.step[sc.n].at_ns = (uint64_t)(at * 1e9 + 0.5);
		if (sc.n == 0 ? sc.step[0].at_ns != 0 :
		    sc.step[sc.n].at_ns <= sc.step[sc.n - 1].at_ns)
			return -EINVAL;
		sc.n++;
	}
	*out = sc;
	return 0;
}

double xtel_probe_schedule_rate(const struct xtel_probe_schedule *s,
				uint64_t t_ns)
{
	if (s->n == 0)
		return 0;
	if (s->period_ns)
		t_ns %= s->period_ns;
	for (unsigned int i = s->n; i-- > 0;)
		if (t_ns >= s->step[i].at_ns)
			return s->step[i].mbps;
	return s->step[0].mbps;
}

uint64_t xtel_probe_pacer_reserve(struct xtel_probe_pacer *p, uint64_t now_ns,
				  uint64_t len, double mbps)
{
	uint64_t at;

	if (mbps <= 0) {
		p->next_ns = now_ns;
		return now_ns;
	}
	if (p->next_ns + p->burst_ns < now_ns)
		p->next_ns = now_ns > p->burst_ns ? now_ns - p->burst_ns : 0;
	/* bits / (Mbit/s) = microseconds; *1000 for ns. */
	p->next_ns += (uint64_t)((double)len * 8.0 * 1000.0 / mbps + 0.5);
	at = p->next_ns;
	return at;
}
