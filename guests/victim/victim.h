/* victim: what each architecture's half provides to guests/victim/victim.c */
#ifndef GUEST_VICTIM_H
#define GUEST_VICTIM_H

/* Set up the timer that victim_sleep_ms waits on (after the fill). */
void victim_timer_init(void);
/* Sleep ms milliseconds, halted (WFI/HLT) where the architecture can. */
void victim_sleep_ms(unsigned long ms);

#endif
