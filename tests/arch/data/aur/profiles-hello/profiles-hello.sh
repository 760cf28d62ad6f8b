#!/bin/sh
echo profiles-hello 1.0
