# How PkgConfig::DPDK (top-level CMakeLists.txt) links: statically or shared. Compile flags are
# the same either way.
#
# DC_DPDK_STATIC=ON (default): DPDK's static libraries (libdpdk-dev ships them) with the drivers
# of DC_DPDK_DRIVERS linked in whole. A shared librte_eal loads every *.so of its plugin
# directory (/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0, 128 drivers) at every start, with no
# option to skip it: that was 31 % of an 8-packet `replay` (docs/performance.md "Replay
# start-up"). A static EAL loads no plugin directory, and its `-d` cannot load Debian's shared
# plugins (they would bring a second, shared EAL), so the drivers an operator needs must be in
# the binary: DC_DPDK_DRIVERS lists them, "all" links every driver libdpdk-dev ships.
# DC_DPDK_STATIC=OFF: the shared libraries and Debian's plugin directory, as before.
option(DC_DPDK_STATIC "Link DPDK statically (no plugin directory loaded at start-up)" ON)
# Default: the buses and mempool handler every start needs, the virtual devices the examples and
# tests use (net_null, net_pcap, net_ring, net_af_packet), and the NIC drivers the package
# recommends in a shared build (Intel e1000/igb, ixgbe, i40e, iavf, ice; Mellanox mlx5; virtio;
# VMware vmxnet3), with the common and bus libraries they need.
set(DC_DPDK_DRIVERS
    "bus_pci;bus_vdev;bus_auxiliary;mempool_ring;common_iavf;common_mlx5;net_null;net_pcap;net_ring;net_af_packet;net_e1000;net_ixgbe;net_i40e;net_iavf;net_ice;net_mlx5;net_virtio;net_vmxnet3"
    CACHE STRING "DPDK drivers linked into a static build (librte_<name>.a), or \"all\"")

set(DC_DPDK_LINKED_DRIVERS "")
if(NOT DC_DPDK_STATIC)
  return()
endif()

# pkg-config --static --libs libdpdk: every library in --whole-archive, then --export-dynamic
# (for -d plugins: not needed without them), the system libraries, and the shared -lrte_*.
# Split it: drivers (they register themselves from constructors, so they must be linked whole)
# -> only those selected; libraries -> a group (only the objects something uses); system
# libraries as they come; the shared -lrte_* dropped.
set(_dc_driver_re "^(bus|common|mempool|net|raw|crypto|compress|regex|vdpa|event|baseband|dma)_")
set(_drivers "")
set(_libs "")
set(_sys "")
set(_found "")
foreach(_f ${DPDK_STATIC_LDFLAGS})
  if(_f MATCHES "^-l:librte_(.+)\\.a$")
    set(_n ${CMAKE_MATCH_1})
    if(_n MATCHES "${_dc_driver_re}")
      if(DC_DPDK_DRIVERS STREQUAL "all" OR _n IN_LIST DC_DPDK_DRIVERS)
        list(APPEND _drivers ${_f})
        list(APPEND _found ${_n})
      endif()
    else()
      list(APPEND _libs ${_f})
    endif()
  elseif(_f MATCHES "^-Wl,--(no-)?whole-archive$" OR _f STREQUAL "-Wl,--export-dynamic"
         OR _f STREQUAL "-Wl,--as-needed" OR _f MATCHES "^-lrte_")
    # dropped: the whole-archive and as-needed switches are placed below; -lrte_* are the shared
    # libraries (libdpdk's Requires: libdpdk-libs), which must not come in beside the static ones
  else()
    list(APPEND _sys ${_f})
  endif()
endforeach()
if(NOT DC_DPDK_DRIVERS STREQUAL "all")
  foreach(_n ${DC_DPDK_DRIVERS})
    if(NOT _n IN_LIST _found)
      message(FATAL_ERROR "DC_DPDK_DRIVERS: no librte_${_n}.a in libdpdk's static libraries "
                          "(pkg-config --static --libs libdpdk)")
    endif()
  endforeach()
endif()
foreach(_n mempool_ring bus_vdev)
  if(NOT _n IN_LIST _found)
    message(FATAL_ERROR "DC_DPDK_DRIVERS must include ${_n} (every start needs it)")
  endif()
endforeach()
list(REMOVE_DUPLICATES _sys)
# Items starting with '-' are passed to the linker as they are, in this order, after the objects
# and static libraries of the target that links PkgConfig::DPDK (its link options keep
# pkg-config's -Wl,--as-needed, which drops the rdma-core providers nothing calls).
set_property(TARGET PkgConfig::DPDK PROPERTY INTERFACE_LINK_LIBRARIES
             -Wl,--whole-archive ${_drivers} -Wl,--no-whole-archive
             -Wl,--start-group ${_libs} -Wl,--end-group ${_sys})
# For `config check` (appliance/config_check_machine.cpp): the drivers inside the binary.
string(REPLACE ";" "," DC_DPDK_LINKED_DRIVERS "${_found}")
list(LENGTH _found _count)
message(STATUS "DPDK: static, ${_count} drivers linked in (DC_DPDK_DRIVERS)")
