# mpi transport: Open MPI's compile and link flags, as mpicc would use them
# (pkg-config ompi-c when mpicc is missing).  Asked when mpi.so is built (`=`,
# expanded in its recipe), never when make reads this file.
mpi_CFLAGS = $(shell mpicc --showme:compile 2>/dev/null || pkg-config --cflags ompi-c)
mpi_LIBS = $(shell mpicc --showme:link 2>/dev/null || pkg-config --libs ompi-c) -ldl
