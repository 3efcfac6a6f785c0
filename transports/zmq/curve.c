/*
 * curve.c — CURVE security for the zmq transport: the run's key pair read
 * from two files, the roles of the sockets (bound sockets are CURVE servers,
 * connected ones clients holding the same pair), and the ZAP thread (RFC 27)
 * that admits only clients whose public key is the run's.
 *
 * Without the two key files CURVE is off and every function here but
 * curve_load does nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "zmq_transport.h"

static int read_key(char out[41], const char *path, const char *param, lsgd_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "zmq: transport.params.%s: cannot read '%s': %s",
                              param, path, strerror(errno));
    char text[128] = {0};
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    uint8_t bin[32];
    if (n != 40 || !zmq_z85_decode(bin, text))
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "zmq: transport.params.%s: '%s' does not hold a CURVE key "
                              "(40 Z85 characters)", param, path);
    memcpy(out, text, 41);
    return LSGD_OK;
}

int curve_load(zt *z, const char *public_path, const char *secret_path, lsgd_error *err)
{
    int has_public = public_path && *public_path, has_secret = secret_path && *secret_path;
    if (!has_public && !has_secret)
        return LSGD_OK;
    if (has_public != has_secret)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "zmq: CURVE needs both transport.params.curve_server_key and "
                              "curve_secret_key (only %s given)",
                              has_public ? "curve_server_key" : "curve_secret_key");
    if (!zmq_has("curve"))
        return lsgd_error_set(err, LSGD_ERR_INPUT, "zmq: this libzmq was built without CURVE");
    int rc = read_key(z->curve_public, public_path, "curve_server_key", err);
    if (!rc)
        rc = read_key(z->curve_secret, secret_path, "curve_secret_key", err);
    if (rc)
        return rc;
    char derived[41];
    if (zmq_curve_public(derived, z->curve_secret) != 0 || strcmp(derived, z->curve_public) != 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "zmq: transport.params.curve_server_key ('%s') is not the public "
                              "key of curve_secret_key ('%s')", public_path, secret_path);
    zmq_z85_decode(z->curve_public_bin, z->curve_public);
    z->curve = 1;
    return LSGD_OK;
}

/* Bound sockets are CURVE servers; the ZAP thread admits only clients
 * holding the run's key pair. */
void curve_server(zt *z, void *sock)
{
    if (!z->curve)
        return;
    set_int(sock, ZMQ_CURVE_SERVER, 1);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, z->curve_secret, 40);
    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "lsgd", 4);
}

void curve_client(zt *z, void *sock)
{
    if (!z->curve)
        return;
    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, z->curve_public, 40);
    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, z->curve_public, 40);
    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, z->curve_secret, 40);
}

/* One ZAP request (RFC 27): admit the client when its key is the run's. */
static void zap_answer(zt *z, void *rep)
{
    zmq_msg_t part[8];
    int parts = 0, more = 1;
    while (more && parts < 8) {
        zmq_msg_init(&part[parts]);
        if (zmq_msg_recv(&part[parts], rep, 0) < 0) {
            zmq_msg_close(&part[parts]);
            break;
        }
        more = zmq_msg_more(&part[parts]);
        parts++;
    }
    while (more) { /* more parts than a CURVE request has */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, rep, 0);
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    int ok = parts == 7 && zmq_msg_size(&part[5]) == 5 &&
             memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 && zmq_msg_size(&part[6]) == 32 &&
             memcmp(zmq_msg_data(&part[6]), z->curve_public_bin, 32) == 0;
    if (!ok) {
        char address[64] = "?";
        if (parts > 3)
            snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&part[3]),
                     (const char *)zmq_msg_data(&part[3]));
        fprintf(stderr, "zmq rank %d: refused a connection from %s: it does not hold the run's "
                        "CURVE key\n", z->rank, address);
    }
    size_t id_len = parts > 1 ? zmq_msg_size(&part[1]) : 0;
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(rep, parts > 1 ? zmq_msg_data(&part[1]) : "", id_len, ZMQ_SNDMORE);
    zmq_send(rep, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(rep, ok ? "OK" : "not the run's key", ok ? 2 : 17, ZMQ_SNDMORE);
    zmq_send(rep, "lsgd", 4, ZMQ_SNDMORE);
    zmq_send(rep, "", 0, 0);
    for (int i = 0; i < parts; i++)
        zmq_msg_close(&part[i]);
}

static void *zap_main(void *arg)
{
    zt *z = arg;
    void *rep = zmq_socket(z->ctx, ZMQ_REP);
    set_int(rep, ZMQ_LINGER, 0);
    if (zmq_bind(rep, "inproc://zeromq.zap.01") != 0) {
        zmq_close(rep);
        return NULL;
    }
    while (!z->zap_stop) {
        zmq_pollitem_t item = {rep, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) > 0)
            zap_answer(z, rep);
    }
    zmq_close(rep);
    return NULL;
}

void curve_start_authenticator(zt *z)
{
    if (!z->curve)
        return;
    z->zap_started = pthread_create(&z->zap, NULL, zap_main, z) == 0;
    struct timespec ts = {0, 20 * 1000 * 1000}; /* let it bind the ZAP endpoint */
    nanosleep(&ts, NULL);
}

void curve_stop_authenticator(zt *z)
{
    if (z->zap_started) {
        z->zap_stop = 1;
        pthread_join(z->zap, NULL);
    }
}
