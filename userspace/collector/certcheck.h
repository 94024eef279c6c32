/* SPDX-License-Identifier: MIT */
/*
 * Start-up check of the DTLS credentials given on the command line, before
 * any socket is opened: each file exists and is readable, holds what its
 * flag says (certificate, private key, CA certificate), and the key belongs
 * to the certificate. Each problem gets its own message naming the flag and
 * file, and its own exit code, so a deployment mistake is obvious.
 */
#ifndef XTEL_CERTCHECK_H
#define XTEL_CERTCHECK_H

/*
 * Returns 0 when cert, key and ca are usable, else XTEL_EXIT_CERT or
 * XTEL_EXIT_KEY_MISMATCH after printing the reason on stderr.
 */
int xtel_certcheck(const char *cert, const char *key, const char *ca);

#endif /* XTEL_CERTCHECK_H */
